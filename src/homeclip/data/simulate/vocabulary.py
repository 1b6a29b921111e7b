"""What the resident does, independently of any home: activities, the places they happen at, the objects they
use, and the one label vocabulary (with everyday descriptions) written into every generated home.

An activity is resolved against a layout by words: its place by sensor-detail words and room-name fragments
(`PLACES`), its label by the home's own L1 labels of the right coarse class (`Activity.coarse/keywords`), the
objects it uses by object kind (`homeclip.data.taxonomy.OBJECT_KINDS`) and detail words (`USES`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Activity:
    """A routine step, defined independently of any home."""

    key: str
    coarse: tuple[str, ...]       # L2 classes in which to look for the home's L1 label
    keywords: tuple[str, ...]     # words preferred in that label's name, in priority order
    fallback: bool                # no keyword match: take the first label of the class anyway
    place: str                    # key of the place it happens at (PLACES)
    gap: float                    # mean seconds between motion triggers while doing it
    optional: bool = False        # done only where the home has a label for it


@dataclass(frozen=True)
class PlaceSpec:
    """Where something happens: sensor-detail words (the spot) first, then room-name fragments."""

    details: tuple[str, ...]
    rooms: tuple[str, ...]
    required: bool = False
    fallback: str = "bedroom"     # the place used where the layout has none


# Order matters twice: required places first (the others fall back to the bedroom), and places that resolve
# to the same room later must not come before the ones the packaged homes' logs were made with.
PLACES = {
    "bed": PlaceSpec(("bed",), ("master_bedroom", "bedroom"), required=True),
    "bedroom": PlaceSpec((), ("master_bedroom", "bedroom"), required=True),
    "bathroom": PlaceSpec(("toilet", "shower", "bath", "basin", "tub"),
                          ("master_bath", "bathroom", "bath", "toilet", "hall"), required=True),
    "toilet": PlaceSpec(("toilet",), ("guest_bath", "bathroom", "bath", "toilet", "hall")),
    "kitchen": PlaceSpec(("stove", "burner", "cooktop", "oven", "fridge", "refrigerator", "microwave"),
                         ("kitchen",), required=True),
    "sink": PlaceSpec(("sink",), ("kitchen",)),
    "meds": PlaceSpec(("medicine", "pill", "meds", "medication"), ("kitchen",)),
    "dining": PlaceSpec(("dining",), ("dining", "kitchen")),
    "tv": PlaceSpec(("tv", "television"), ("living", "lounge", "family")),
    "seat": PlaceSpec(("armchair", "couch", "sofa", "chair", "lounge"), ("living", "lounge", "family")),
    "desk": PlaceSpec(("desk",), ("office", "work", "study")),
    "quiet": PlaceSpec((), ("guest_bedroom", "living")),
    "shower": PlaceSpec(("shower", "bathtub", "bath", "tub"), ("master_bath", "bathroom", "bath"),
                        fallback="bathroom"),
    "basin": PlaceSpec(("basin", "washbasin"), ("master_bath", "bathroom", "bath"), fallback="bathroom"),
    "laundry": PlaceSpec(("washing", "washer", "dryer"), ()),     # a room named "...laundry" may be an aisle
}

# Appending is safe; the first 24 are the ones the packaged homes' logs were made with (same order, same words).
ACTIVITIES = {a.key: a for a in (
    Activity("sleep", ("Sleep",), ("sleep", "sleeping"), True, "bed", 900.0),
    Activity("bed_to_toilet", ("Bed_to_toilet",), ("bed_to_toilet", "bed_toilet"), True, "bathroom", 15.0),
    Activity("wake", ("Other",), ("bedroom", "wake", "dress"), False, "bedroom", 12.0, optional=True),
    Activity("hygiene", ("Bathing", "Personal_hygiene"), ("master_bath", "hygiene", "groom"), True, "basin", 9.0),
    Activity("bathe", ("Bathing",), ("master_bath", "bath", "shower"), True, "shower", 9.0),
    Activity("toilet", ("Bathing", "Personal_hygiene"), ("guest", "toilet"), False, "toilet", 12.0),
    Activity("morning_meds", ("Take_medicine",), ("morning",), True, "meds", 5.0),
    Activity("evening_meds", ("Take_medicine",), ("eve",), True, "meds", 5.0),
    Activity("cook_breakfast", ("Cook",), ("breakfast",), True, "kitchen", 6.0),
    Activity("cook_lunch", ("Cook",), ("lunch",), True, "kitchen", 6.0),
    Activity("cook_dinner", ("Cook",), ("dinner",), True, "kitchen", 6.0),
    Activity("eat_breakfast", ("Eat",), ("breakfast",), True, "dining", 20.0),
    Activity("eat_lunch", ("Eat",), ("lunch",), True, "dining", 20.0),
    Activity("eat_dinner", ("Eat",), ("dinner",), True, "dining", 20.0),
    Activity("dishes_breakfast", ("Work",), ("breakfast_dish", "dish"), False, "sink", 8.0, optional=True),
    Activity("dishes_lunch", ("Work",), ("lunch_dish", "dish"), False, "sink", 8.0, optional=True),
    Activity("dishes_dinner", ("Work",), ("dinner_dish", "dish"), False, "sink", 8.0, optional=True),
    Activity("watch_tv", ("Relax",), ("tv",), True, "tv", 25.0),
    Activity("read", ("Relax",), ("read",), True, "seat", 27.0),
    Activity("desk", ("Work",), ("desk", "work", "office", "study"), True, "desk", 20.0),
    Activity("chores", ("Work",), ("chore", "housekeep", "clean", "laundry"), False, "bedroom", 7.0),  # + other rooms
    Activity("meditate", ("Other",), ("meditat",), False, "quiet", 120.0, optional=True),
    Activity("leave_home", ("Leave_Home",), ("leave", "leaving"), True, "entrance", 5.0),
    # Coarse class Leave_Home in the shared convention; only a label with "enter" in its name, never a fallback.
    Activity("enter_home", ("Enter_Home", "Leave_Home"), ("enter",), False, "entrance", 5.0),
    # Only routines that ask for them do these (the packaged homes' classic routine never does).
    Activity("laundry", ("Work",), ("laundry",), False, "laundry", 10.0),
    Activity("get_drink", ("Eat",), ("drink",), False, "kitchen", 6.0),
    Activity("put_away", ("Other",), ("groceries",), False, "kitchen", 6.0),
    Activity("go_to_work", ("Leave_Home",), ("work",), True, "entrance", 5.0),
    Activity("shopping", ("Leave_Home",), ("shop",), True, "entrance", 5.0),
)}


@dataclass(frozen=True)
class Use:
    """Objects an activity operates: sensors of these kinds (and, if given, with one of these detail words)
    in the room where it happens."""

    kinds: tuple[str, ...]
    words: tuple[str, ...] = ()
    how: str = "burst"                        # "burst": a few short uses; "end": once at the end; "whole": on
    count: tuple[int, int] = (1, 2)           #   throughout (pressure mats, TV, shower; bursts for contacts)
    seconds: tuple[float, float] = (2.0, 40.0)  # how long one use keeps the sensor on/open
    prob: float = 1.0                         # chance that the activity uses it at all


_FRIDGE = Use(("fridge",), count=(1, 3), seconds=(3.0, 30.0))
_CUPBOARDS = Use(("cupboard",), count=(1, 3), seconds=(2.0, 20.0))
_TAP = Use(("sink_tap",), count=(1, 2), seconds=(5.0, 40.0), prob=0.6)
_FLUSH = Use(("toilet",), how="end", count=(1, 1), seconds=(4.0, 12.0), prob=0.95)
_MEDS = (Use(("medicine",), count=(1, 1), seconds=(3.0, 20.0)),
         Use(("cupboard",), ("cups", "glasses"), count=(1, 1), prob=0.5), Use(("sink_tap",), prob=0.3))
_DISHES = (Use(("sink_tap",), count=(1, 3), seconds=(20.0, 120.0)),
           Use(("appliance",), ("dishwasher",), count=(1, 2), seconds=(5.0, 40.0)), _CUPBOARDS)

USES: dict[str, tuple[Use, ...]] = {
    "sleep": (Use(("bed",), how="whole"),),
    "bed_to_toilet": (_FLUSH, Use(("sink_tap",), count=(1, 1), seconds=(4.0, 15.0), prob=0.5)),
    "wake": (Use(("cupboard",), ("wardrobe", "drawers", "closet"), count=(1, 2), seconds=(5.0, 60.0)),),
    "hygiene": (Use(("sink_tap",), count=(1, 3), seconds=(10.0, 90.0)), Use(("cupboard",), prob=0.6),
                Use(("toilet",), how="end", count=(1, 1), seconds=(4.0, 12.0), prob=0.5)),
    "bathe": (Use(("shower_bath",), how="whole"), _TAP, Use(("cupboard",), prob=0.5)),
    "toilet": (_FLUSH, Use(("sink_tap",), count=(1, 1), seconds=(5.0, 25.0), prob=0.7)),
    "morning_meds": _MEDS,
    "evening_meds": _MEDS,
    "cook_breakfast": (_FRIDGE, _CUPBOARDS, Use(("appliance",), ("toaster", "kettle", "coffee"), count=(1, 1),
                                                seconds=(90.0, 240.0), prob=0.8),
                       Use(("microwave",), count=(1, 1), seconds=(40.0, 150.0), prob=0.3)),
    "cook_lunch": (_FRIDGE, _CUPBOARDS, Use(("microwave",), count=(1, 2), seconds=(60.0, 240.0), prob=0.6),
                   Use(("stove",), how="whole", prob=0.4), _TAP),
    "cook_dinner": (_FRIDGE, Use(("cupboard",), count=(2, 4), seconds=(2.0, 20.0)),
                    Use(("stove",), how="whole", prob=0.85),
                    Use(("microwave",), count=(1, 1), seconds=(60.0, 240.0), prob=0.3), _TAP),
    "dishes_breakfast": _DISHES,
    "dishes_lunch": _DISHES,
    "dishes_dinner": _DISHES,
    "watch_tv": (Use(("tv_media",), how="whole"), Use(("seat",), how="whole")),
    "read": (Use(("seat",), how="whole"),),
    "desk": (Use(("desk",), how="whole"),),
    "laundry": (Use(("appliance",), ("washing", "washer", "dryer"), count=(1, 2), seconds=(5.0, 40.0)),
                Use(("cupboard",), prob=0.3)),
    "get_drink": (Use(("fridge",), count=(1, 1), seconds=(3.0, 15.0), prob=0.7),
                  Use(("cupboard",), ("cups", "glasses"), count=(1, 1)), Use(("sink_tap",), prob=0.4)),
    "put_away": (Use(("fridge",), count=(2, 4), seconds=(5.0, 40.0)), Use(("cupboard",), count=(2, 5))),
}
# A "whole" use of a contact (a door or a cupboard) would mean leaving it open: contacts only ever get bursts.


# ---------------------------------------------------------------- the shared label vocabulary

# Fine (L1) label -> Milan's coarse (L2) class, the same in every generated home.
LABELS: dict[str, str] = {
    "": "Other", "Other": "Other",
    "Sleep": "Sleep", "Bed_to_toilet": "Bed_to_toilet", "Get_dressed": "Other",
    "Personal_hygiene": "Bathing", "Shower": "Bathing", "Toilet": "Bathing",
    "Morning_meds": "Take_medicine", "Evening_meds": "Take_medicine",
    "Cook_breakfast": "Cook", "Cook_lunch": "Cook", "Cook_dinner": "Cook",
    "Eat_breakfast": "Eat", "Eat_lunch": "Eat", "Eat_dinner": "Eat", "Get_drink": "Eat",
    "Wash_dishes": "Work", "Desk_work": "Work", "Chores": "Work", "Do_laundry": "Work",
    "Watch_TV": "Relax", "Read": "Relax",
    "Leave_Home": "Leave_Home", "Go_to_work": "Leave_Home", "Shopping": "Leave_Home",
}

# The label each activity must get in a generated home (checked by the tests through resolve_layout).
ACTIVITY_LABELS: dict[str, str | None] = {
    "sleep": "Sleep", "bed_to_toilet": "Bed_to_toilet", "wake": "Get_dressed", "hygiene": "Personal_hygiene",
    "bathe": "Shower", "toilet": "Toilet", "morning_meds": "Morning_meds", "evening_meds": "Evening_meds",
    "cook_breakfast": "Cook_breakfast", "cook_lunch": "Cook_lunch", "cook_dinner": "Cook_dinner",
    "eat_breakfast": "Eat_breakfast", "eat_lunch": "Eat_lunch", "eat_dinner": "Eat_dinner",
    "dishes_breakfast": "Wash_dishes", "dishes_lunch": "Wash_dishes", "dishes_dinner": "Wash_dishes",
    "watch_tv": "Watch_TV", "read": "Read", "desk": "Desk_work", "chores": "Chores", "meditate": None,
    "leave_home": "Leave_Home", "enter_home": None, "laundry": "Do_laundry", "get_drink": "Get_drink",
    "put_away": None, "go_to_work": "Go_to_work", "shopping": "Shopping",
}

DESCRIPTIONS: dict[str, list[str]] = {
    "Sleep": ["sleeping through the night", "a night's rest in bed", "lying asleep until morning",
              "asleep in bed"],
    "Bed_to_toilet": ["getting up in the night to use the toilet", "a short night-time trip from bed to the "
                      "toilet and back", "waking briefly to go to the loo"],
    "Get_dressed": ["getting dressed in the morning", "putting on clothes after getting up",
                    "choosing clothes from the wardrobe"],
    "Personal_hygiene": ["washing face and brushing teeth", "freshening up at the wash basin",
                         "morning grooming", "a quick wash"],
    "Shower": ["taking a shower", "having a wash under the shower", "bathing before the day starts"],
    "Toilet": ["using the toilet", "a visit to the loo", "going to the toilet during the day"],
    "Morning_meds": ["taking the morning pills", "swallowing the day's first medication",
                     "morning medicine with a glass of water"],
    "Evening_meds": ["taking the evening pills", "medication before bed", "the night-time dose of medicine"],
    "Cook_breakfast": ["making breakfast", "toasting bread and boiling the kettle", "getting breakfast ready"],
    "Cook_lunch": ["preparing lunch", "heating up something for midday", "making a quick lunch"],
    "Cook_dinner": ["cooking dinner", "preparing the evening meal", "making supper on the hob"],
    "Eat_breakfast": ["eating breakfast", "having the first meal of the day", "sitting down with breakfast"],
    "Eat_lunch": ["eating lunch", "a midday meal", "having lunch at the table"],
    "Eat_dinner": ["eating dinner", "having the evening meal", "supper at the table"],
    "Get_drink": ["getting a drink", "pouring a glass of water", "fetching something to drink"],
    "Wash_dishes": ["washing the dishes", "cleaning up after a meal", "loading the dishwasher"],
    "Desk_work": ["working at the desk", "using the computer", "paperwork and emails"],
    "Chores": ["doing housework", "tidying and cleaning the home", "household chores"],
    "Do_laundry": ["doing the laundry", "loading the washing machine", "washing clothes"],
    "Watch_TV": ["watching television", "a programme on TV", "relaxing in front of the telly"],
    "Read": ["reading a book", "sitting down with the newspaper", "quiet reading time"],
    "Leave_Home": ["going out", "leaving the house", "heading outside for a while"],
    "Go_to_work": ["leaving for work", "setting off to the job", "off to work for the day"],
    "Shopping": ["going shopping", "out buying groceries", "a trip to the shops"],
    "Other": ["something else", "time at home between activities", "everyday business"],
    "Bathing": ["washing and using the bathroom", "personal care in the bathroom", "getting clean"],
    "Take_medicine": ["taking medicine", "a dose of pills", "medication time"],
    "Cook": ["cooking", "preparing food", "making a meal"],
    "Eat": ["eating", "having a meal or a drink", "food at the table"],
    "Work": ["work around the house or at the desk", "doing tasks", "being busy with jobs"],
    "Relax": ["relaxing", "leisure time at home", "resting on the sofa"],
}
DESCRIPTIONS_SOURCE = ("Written by hand for homeclip's simulator from the meaning of each activity, in everyday "
                       "words; no sensor names, rooms-with-motion phrasing or caption template words.")
