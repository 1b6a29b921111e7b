"""The caption styles: structured (fixed templates, exact figures) and natural (varied English wording drawn
from a per-window RNG)."""
from __future__ import annotations

import random

from .cue_words import cue_sentences, cue_short, cues_structured, part_phrase, when_phrase
from .daytime import around_clock, day_part
from .phrases import (
    PERSON_VERBS,
    article,
    duration_phrase,
    join_words,
    number_word,
    plural,
    sentence,
    short_duration,
    times_word,
)
from .summary import WindowSummary

N_LONG_NATURAL = 3
LONG_PAUSE_S = 300.0          # a gap inside a window at least this long is described as a pause
QUIET_BEFORE_S = 1800.0       # silence before the window worth mentioning
MAX_ROUTE_SHOWN = 8           # runs listed in the structured trajectory
SPAN_S = 1200.0               # a window this long reaching into another part of the day says its clock span


# ------------------------------------------------------------------------------------ structured style
def long_structured(s: WindowSummary) -> str:
    shown = s.route[:MAX_ROUTE_SHOWN]
    route = " > ".join(f"{r} ({short_duration(d)})" for r, d, _ in shown) or "unknown"
    if len(s.route) > MAX_ROUTE_SHOWN:
        route += f" > {len(s.route) - MAX_ROUTE_SHOWN} more"
    objects = ", ".join(f"{t.text} x{c}" for t, c in s.things if t.kind != "door" and c > 0) or "none"
    doors = ", ".join(f"{t.text} opened x{c}" if c else f"{t.text} closed"
                      for t, c in s.things if t.kind == "door") or "none"
    observed = cues_structured(s.cues)
    return (f"Start: {s.start_weekday} {s.hour:02d}:{s.minute:02d}. Time of day: {s.part.phrase} "
            f"({around_clock(s.mid_hour, s.mid_minute)}). Duration: {short_duration(s.duration_s)}. "
            f"Events: {s.n_events} ({s.per_minute:.1f} per min). Rooms: {route}. Sensors: {objects}. "
            f"Doors: {doors}. Longest pause: {short_duration(s.longest_pause_s)}."
            + (f" Observed: {observed}." if observed else ""))


def short_structured(s: WindowSummary) -> str:
    rooms = ", ".join(dict.fromkeys(s.main_route)) or "unknown"
    cues = "".join(f" | {c}" for c in dict.fromkeys(c.kind.replace("_", " ") for c in s.cues))
    return f"{s.weekday} {s.part.phrase} | {rooms} | {short_duration(s.duration_s)} | {s.n_events} events{cues}"


# --------------------------------------------------------------------------------------- natural style
_WHO = ("the resident", "someone", "a person", "the occupant")


def _pace(s: WindowSummary, rng: random.Random) -> str:
    return rng.choice(s.pace_words)


def _when(s: WindowSummary, rng: random.Random) -> str:
    """A time phrase that can open a sentence, always with a part of the day: 'late at night on Monday',
    'on Monday, early in the morning', 'in the evening on Monday, around 8 pm', 'at 7:42 am on Monday, ...'."""
    phrase, k = part_phrase(s.part, rng), rng.randrange(4)
    if k == 0:
        return f"{phrase} on {s.weekday}"
    if k == 1:
        return f"on {s.weekday}, {phrase}"
    if k == 2 or day_part(s.hour) != s.part:
        return f"{phrase} on {s.weekday}, {around_clock(s.mid_hour, s.mid_minute)}"
    return f"at {s.clock} on {s.start_weekday}, {phrase}"


def _movement(s: WindowSummary, rng: random.Random, who: str) -> str:
    """'the resident goes from the kitchen to the living room' and similar."""
    route = s.route_nouns
    if not route:
        return rng.choice((f"{who} moves about in an unmapped part of the home",
                           f"{who} is active somewhere in the home"))
    if len(route) == 1:
        return rng.choice((f"{who} stays in {route[0]}", f"{who} is active in {route[0]}",
                           f"{who} moves around {route[0]}"))
    distinct = list(dict.fromkeys(route))
    if len(distinct) < len(route):
        return rng.choice((f"{who} moves back and forth between {join_words(distinct)}",
                           f"{who} goes between {join_words(distinct)} several times"))
    if len(route) == 2:
        return rng.choice((f"{who} goes from {route[0]} to {route[1]}",
                           f"{who} starts in {route[0]} and then moves to {route[1]}"))
    return rng.choice((f"{who} goes from {route[0]} through {join_words(route[1:-1])} to {route[-1]}",
                       f"{who} starts in {route[0]}, passes through {join_words(route[1:-1])} "
                       f"and ends up in {route[-1]}"))


def _dwell_clause(s: WindowSummary, rng: random.Random) -> str:
    rooms = s.rooms_by_dwell
    if len(set(s.main_route)) < 2 or rooms[0][1] < 60:
        return ""
    room, dwell, _ = rooms[0]
    return rng.choice((f", spending most of the time in the {room}",
                       f", spending {duration_phrase(dwell)} in the {room}"))


def _minor_rooms(s: WindowSummary) -> list[str]:
    main = set(s.main_route)
    return [r for r, _, _ in s.rooms_by_dwell if r not in main][:2]


def _objects_sentence(s: WindowSummary, rng: random.Random, who: str) -> str:
    motion = [t for t, _ in sorted(s.things, key=lambda tc: -tc[1]) if t.kind == "motion"]
    used = [(t, c) for t, c in s.things if t.kind == "object" and c > 0 and t.verb not in PERSON_VERBS]
    seated = [(t, c) for t, c in s.things if t.kind == "object" and c > 0 and t.verb in PERSON_VERBS]
    parts = []
    if motion:
        taken = {w for t in motion for w in t.text.split()}     # never "by the hall by the living room"
        prep = rng.choice(tuple(p for p in ("near", "by") if p not in taken) or ("around",))
        nouns = [t.noun for t in motion if not t.prepositional][:4]
        places = ([f"{prep} {join_words(nouns)}"] if nouns else []) + [t.text for t in motion if t.prepositional][:2]
        where = join_words(places)
        options = (f"there is movement {where}", f"motion sensors {where} are triggered")
        parts.append(rng.choice(options if len(places) > len(nouns[:1]) else options + (f"{who} passes {where}",)))
    if used:
        parts.append(join_words([f"{t.noun} is {t.verb} {times_word(c)}" for t, c in used[:3]]))
    if seated:
        parts.append(f"{who} " + join_words([f"{t.verb} {t.noun} {times_word(c)}" for t, c in seated[:2]]))
    return " ".join(sentence(p) for p in parts)


def _doors_sentence(s: WindowSummary, rng: random.Random) -> str:
    doors = [(t, c) for t, c in s.things if t.kind == "door"][:3]
    if not doors:
        return ""
    verb = rng.choice(("is opened", "opens"))
    clauses = [f"{t.noun} {verb} {times_word(c)}" if c else f"{t.noun} is closed" for t, c in doors]
    return sentence(join_words(clauses))


def _pause_sentence(s: WindowSummary, rng: random.Random, who: str) -> str:
    out = []
    if s.longest_pause_s >= LONG_PAUSE_S:
        dur = duration_phrase(s.longest_pause_s)
        where = f" in the {s.pause_room}" if s.pause_room else ""
        out.append(rng.choice((f"there is a long pause of {dur}{where}",
                               f"nothing happens for {dur}" + (f" while {who} is{where}" if where else ""),
                               f"the sensors fall silent for {dur}{where}")))
    if s.quiet_before_s >= QUIET_BEFORE_S:
        out.append(rng.choice((f"this follows {duration_phrase(s.quiet_before_s)} without any sensor events",
                               f"it comes after {duration_phrase(s.quiet_before_s)} of silence")))
    return " ".join(sentence(x) for x in out)


def _pace_sentence(s: WindowSummary, rng: random.Random) -> str:
    rate = s.per_minute
    if rate >= 1.5:
        per = f"about {number_word(round(rate))} events a minute"
    elif rate >= 0.75:
        per = "about one event a minute"
    else:
        per = f"about one event every {number_word(max(2, round(1 / max(rate, 1e-3))))} minutes"
    dur, adj, k = s.duration_text, _pace(s, rng), rng.randrange(3)
    if k == 0:
        return sentence(f"the pace is {adj}, with {plural(s.n_events, 'sensor event')} in {dur}")
    if k == 1:
        return sentence(f"activity is {adj}, {per}")
    return sentence(f"it is {article(adj)} {adj} stretch of {dur} with {plural(s.n_events, 'sensor event')}")


def _span_sentence(s: WindowSummary, rng: random.Random) -> str:
    """'It runs from 9:50 pm to 11:15 pm.' for a window of SPAN_S or more that reaches into another part of the day."""
    if s.duration_s < SPAN_S or day_part(s.hour) == day_part(s.end_hour):
        return ""
    return sentence(rng.choice((f"it runs from {s.clock} to {s.end_clock}",
                                f"it lasts from {s.clock} until {s.end_clock}")))


def _extras(s: WindowSummary, rng: random.Random, who: str, *, pace: bool) -> list[str]:
    parts = [*cue_sentences(s.cues, rng, who), _span_sentence(s, rng), _objects_sentence(s, rng, who),
             _doors_sentence(s, rng), _pause_sentence(s, rng, who)]
    if pace:
        parts.append(_pace_sentence(s, rng))
    minor = _minor_rooms(s)
    if minor and rng.random() < 0.5:
        parts.append(sentence(f"there are brief visits to {join_words([f'the {r}' for r in minor])}"))
    return [p for p in parts if p]


def _plan_narrative(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    head = sentence(f"{_when(s, rng)}, {_movement(s, rng, who)}{_dwell_clause(s, rng)}")
    return " ".join([head, *_extras(s, rng, who, pace=True)])


def _plan_duration(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    head = sentence(f"{s.duration_text} of {_pace(s, rng)} activity {_when(s, rng)}")
    return " ".join([head, sentence(_movement(s, rng, who)), *_extras(s, rng, who, pace=False)])


def _plan_pace(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    adj = _pace(s, rng)
    head = sentence(f"{article(adj)} {adj} period {_when(s, rng)}: {plural(s.n_events, 'sensor event')} "
                     f"in {s.duration_text} as {_movement(s, rng, who)}")
    return " ".join([head, *_extras(s, rng, who, pace=False)])


def _plan_clock(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    head = sentence(f"starting at {s.clock} on {s.start_weekday}, {part_phrase(day_part(s.hour), rng)}, and lasting "
                     f"{s.duration_text}, {_movement(s, rng, who)}")
    return " ".join([head, *_extras(s, rng, who, pace=True)])


def _plan_shuffled(s: WindowSummary, rng: random.Random) -> str:
    who = rng.choice(_WHO)
    rest = _extras(s, rng, who, pace=True)
    lead = sentence(f"{_when(s, rng)}, {_movement(s, rng, who)}")
    rng.shuffle(rest)
    return " ".join([lead, *rest])


_PLANS = (_plan_narrative, _plan_duration, _plan_pace, _plan_clock, _plan_shuffled)


def _short_natural(s: WindowSummary, rng: random.Random) -> list[str]:
    route = s.route_nouns
    when = part_phrase(s.part, rng)
    if not route:
        where = "somewhere in the home"
    elif len(route) == 1:
        where = f"in {route[0]}"
    elif len(set(route)) < len(route):
        where = f"between {join_words(list(dict.fromkeys(route)))}"
    else:
        where = f"from {route[0]} to {route[-1]}"
    options = [
        f"{s.duration_text} of {_pace(s, rng)} activity {where} {when}",
        f"{rng.choice(('movement', 'activity'))} {where} {when}",
        f"{rng.choice(_WHO)} moving {where} {when_phrase(s.part, s.weekday, rng)}",
    ]
    doors = [t for t, c in s.things if t.kind == "door" and c > 0]
    if doors:
        options.append(f"{doors[0].noun} opens {when}")
    if s.cues:      # what the person does comes first when the events show it
        return [sentence(cue_short(s.cues, rng, rng.choice(_WHO))), sentence(rng.choice(options))]
    return [sentence(p) for p in rng.sample(options, 2)]


def natural(s: WindowSummary, rng: random.Random) -> tuple[list[str], list[str]]:
    plans = rng.sample(_PLANS, N_LONG_NATURAL)
    longs = [plan(s, rng) for plan in plans]
    return longs, _short_natural(s, rng)
