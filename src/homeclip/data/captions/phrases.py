"""Caption wording: clock times, numbers and durations in words, room and detail phrases, object verbs,
articles. (The parts of the day are in daytime.py.)

Pure string helpers shared by the window summaries and the caption styles."""
from __future__ import annotations

import re

from .daytime import day_part

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNKNOWN_ROOMS = {"", "unknown", "unk", "other", "none", "nan"}
_ROOM_WORDS = {"rm": "room", "aisle": "hallway"}
_ROOM_ALONE = {"living": "living room", "dining": "dining room"}
PREPOSITIONS = {"at", "near", "in", "on", "between", "by", "next", "close", "under", "above", "behind",
                "beside", "outside", "inside", "toward", "towards", "into", "from", "to"}
_NO_ARTICLE_AFTER = {"the", "a", "an", "this", "that", "its", "his", "her", "their", "each", "every", "both",
                     "and", "or", "to", "of"} | PREPOSITIONS
# How captions name a room type when the layout names no room, and an object kind when it gives no detail.
ROOM_TYPE_NOUNS = {"kitchen": "kitchen", "bedroom": "bedroom", "bathroom": "bathroom", "toilet": "toilet",
                   "living": "living room", "dining": "dining room", "hall": "hallway", "office": "office",
                   "laundry": "laundry room", "storage": "storage room"}
KIND_NOUNS = {"bed": "bed", "toilet": "toilet", "shower_bath": "shower", "sink_tap": "sink", "stove": "stove",
              "microwave": "microwave", "fridge": "fridge", "cupboard": "cupboard", "front_door": "front door",
              "seat": "seat", "tv_media": "TV", "desk": "desk", "medicine": "medicine cabinet",
              "appliance": "appliance", "table": "table"}
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# What an object sensor's activation says, by sensor type then by kind (a contact on a fridge opens it, a flow
# sensor on a toilet flushes it, a mat on a seat means someone sits on it).
_TYPE_KIND_VERBS = {("flow", "toilet"): "flushed", ("flow", "shower_bath"): "turned on",
                    ("flow", "sink_tap"): "turned on", ("pressure", "bed"): "lies on", ("pressure", "seat"): "sits on"}
_TYPE_VERBS = {"door": "opened", "item": "moved", "electric": "switched on", "power": "switched on",
               "pressure": "pressed"}
_KIND_VERBS = {"stove": "switched on", "microwave": "switched on", "tv_media": "switched on",
               "appliance": "switched on", "light": "switched on", "shower_bath": "turned on",
               "sink_tap": "turned on", "fridge": "opened", "cupboard": "opened", "medicine": "opened"}
# Verbs said of the person ("someone sits on the sofa"), not of the object ("the fridge is opened").
PERSON_VERBS = frozenset({"lies on", "sits on"})


# ----------------------------------------------------------------------------------------------- wording
def time_of_day(hour: int) -> str:
    """The name of the part of the day of an hour (0-23), e.g. 7 -> "early morning" (daytime.DAY_PARTS)."""
    return day_part(hour).name


def clock_text(hour: int, minute: int) -> str:
    """'7:42 am', '12:05 pm'."""
    return f"{hour % 12 or 12}:{minute:02d} {'am' if hour < 12 else 'pm'}"


def thing_verb(sensor_type: str, kind: str) -> str:
    """What an object sensor's activation does to its object: 'opened', 'flushed', 'switched on', 'sits on'..."""
    if (sensor_type, kind) in _TYPE_KIND_VERBS:
        return _TYPE_KIND_VERBS[sensor_type, kind]
    if sensor_type in ("door", "item") or (sensor_type in _TYPE_VERBS and kind not in _KIND_VERBS):
        return _TYPE_VERBS[sensor_type]
    return _KIND_VERBS.get(kind, "used")


def number_word(n: int) -> str:
    """Small counts as words (one ... ten), larger ones as digits."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def times_word(n: int) -> str:
    """once, twice, three times, ..."""
    return {1: "once", 2: "twice"}.get(n, f"{number_word(n)} times")


def plural(n: int, noun: str) -> str:
    """'1 event', '2 events'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def duration_phrase(seconds: float) -> str:
    """A rounded English duration: 'less than a minute', 'a few minutes', 'about 20 minutes', 'about an hour'."""
    minutes = seconds / 60.0
    if seconds < 45:
        return "less than a minute"
    if minutes < 1.5:
        return "about a minute"
    if minutes < 4.5:
        return "a few minutes"
    if minutes < 9.5:
        return f"about {number_word(round(minutes))} minutes"
    if minutes < 52.5:
        return f"about {5 * round(minutes / 5)} minutes"
    if minutes < 75:
        return "about an hour"
    if minutes < 105:
        return "about an hour and a half"
    halves = round(minutes / 30)
    whole = number_word(halves // 2)
    return f"about {whole} and a half hours" if halves % 2 else f"about {whole} hours"


def short_duration(seconds: float) -> str:
    """Exact compact duration for structured captions: '40 s', '12 min', '1 h 20 min'."""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def detail_words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text.strip())
    return re.sub(r"[_\-\s]+", " ", spaced).split()


def _add_articles(words: list[str]) -> list[str]:
    # "at home entrance" -> "at the home entrance": a preposition followed directly by a noun gets "the".
    out: list[str] = []
    for i, word in enumerate(words):
        out.append(word)
        nxt = words[i + 1].lower() if i + 1 < len(words) else None
        if (word.lower() in PREPOSITIONS and nxt is not None and nxt not in _NO_ARTICLE_AFTER
                and not nxt.isdigit() and not (word.lower() in ("next", "close") and nxt == "to")):
            out.append("the")
    return out


def humanise_room(name: str) -> str | None:
    """'master_bedroom' -> 'master bedroom', 'LivingRoom' -> 'living room'; None for unknown rooms."""
    words = [w.lower() for w in detail_words(name)]
    if " ".join(words) in _UNKNOWN_ROOMS:
        return None
    words = [_ROOM_WORDS.get(w, w) for w in words]
    text = " ".join(_add_articles(words))
    return _ROOM_ALONE.get(text, text)


def clean_detail(detail: str, room: str | None) -> str | None:
    """A layout detail as a phrase without leading article: 'bed in master bedroom' -> 'bed'."""
    words = [w if (w.isupper() and len(w) > 1) else w.lower() for w in detail_words(detail)]
    if words and words[0] == "the":
        words = words[1:]
    text = " ".join(words)
    if room:  # "garage door in kitchen" inside the kitchen: the room is said elsewhere
        text = re.sub(rf"\s+(in|of)\s+(the\s+)?{re.escape(room)}$", "", text)
    text = " ".join(_add_articles(text.split()))
    return text or None


def article(noun_phrase: str) -> str:
    """'a' or 'an' for a noun phrase ('an armchair', 'a fridge')."""
    return "an" if noun_phrase[:1].lower() in "aeiou" else "a"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    text = capitalise(text.strip())
    return text if text.endswith((".", "!", "?")) else text + "."

