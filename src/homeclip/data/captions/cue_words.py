"""How captions say the activity cues (cues.py) and the time of day: natural sentences, short phrases and the
structured 'Observed:' list. Every cue carries its own time of day, said with the phrases of daytime.py."""
from __future__ import annotations

import random

from .cues import Cue
from .daytime import DayPart, around_clock, day_part, phrases_for
from .phrases import clock_text, duration_phrase, join_words, sentence, short_duration

_US = 1_000_000
_NIGHT_PARTS = frozenset({"night", "late night", "early morning"})


def part_phrase(part: DayPart, rng: random.Random) -> str:
    """A phrase true of every hour of the part: mostly its own ('late at night'), sometimes a wider one."""
    options = phrases_for(part)
    return options[0] if len(options) == 1 or rng.random() < 0.65 else rng.choice(options[1:])


def when_phrase(part: DayPart, weekday: str, rng: random.Random) -> str:
    """'late at night on Monday' or 'on Monday, late at night'."""
    phrase = part_phrase(part, rng)
    return f"{phrase} on {weekday}" if rng.random() < 0.5 else f"on {weekday}, {phrase}"


def _at(t_us: int, rng: random.Random) -> str:
    """The time of a cue: its part of the day, sometimes with the clock ('early in the morning (around 6 am)')."""
    hour, minute = int(t_us // (3600 * _US) % 24), int(t_us // (60 * _US) % 60)
    phrase, k = part_phrase(day_part(hour), rng), rng.randrange(4)
    if k == 0:
        return f"{phrase} ({around_clock(hour, minute)})"
    if k == 1:
        return f"{phrase} (at {clock_text(hour, minute)})"
    return phrase


def _for(c: Cue) -> str:
    """'for about two hours' ('... or more' when the quiet runs to an edge of the window)."""
    return f"for {duration_phrase(c.duration_s)}" + (" or more" if c.lower_bound else "")


def _stories(cues: list[Cue]) -> list[tuple[Cue, Cue | None]]:
    """Cues paired with the one that completes them: getting up with going back to bed, going to bed with the
    stay in bed, leaving with coming home."""
    pairs = {"gets_up": "back_to_bed", "to_bed": "in_bed", "leaves": "comes_home"}
    out, used = [], set()
    for i, c in enumerate(cues):
        if i in used:
            continue
        j = next((j for j in range(i + 1, len(cues)) if j not in used and cues[j].kind == pairs.get(c.kind)), None)
        if j is not None and all(cues[k].kind not in pairs for k in range(i + 1, j)):
            used.add(j)
            out.append((c, cues[j]))
        else:
            out.append((c, None))
    return out


def _in_bed(c: Cue, rng: random.Random, *, when: bool = True) -> str:
    """'stays in bed for about two hours in the middle of the night' (the part of the day of the stay's middle)."""
    part = day_part(int((c.t_us + int(c.duration_s * _US / 2)) // (3600 * _US) % 24))
    at = f" {part_phrase(part, rng)}" if when else ""
    if c.thing == "bed" or part.name in _NIGHT_PARTS:
        return rng.choice((f"stays in bed {_for(c)}{at}", f"lies in bed {_for(c)}{at}, hardly moving"))
    return f"rests quietly in the bedroom {_for(c)}{at}"


def _story(first: Cue, then: Cue | None, rng: random.Random, who: str) -> str:
    """One cue (or a pair) as a clause with the person as subject."""
    kind = first.kind
    if kind == "gets_up":
        to = f" and goes to the {first.rooms[0]}" if first.rooms else ""
        if then is not None:
            later = duration_phrase((then.t_us - first.t_us) / _US)
            return (f"{who} gets out of bed {_at(first.t_us, rng)}{to}, then goes back to bed "
                    f"{later.removeprefix('about ')} later")
        verb = rng.choice(("gets up", "gets out of bed"))
        after = f" after {duration_phrase(first.duration_s)} of quiet" if not first.lower_bound and rng.random() < 0.4 \
            else ""
        return f"{who} {verb} {_at(first.t_us, rng)}{after}{to}"
    if kind == "back_to_bed":
        return f"{who} goes back to bed {_at(first.t_us, rng)}"
    if kind == "to_bed":
        if then is not None:
            return f"{who} goes to bed {_at(first.t_us, rng)} and {_in_bed(then, rng, when=False)}"
        return rng.choice((f"{who} goes to bed {_at(first.t_us, rng)}",
                           f"{who} settles in the bedroom {_at(first.t_us, rng)} and everything goes quiet"))
    if kind == "in_bed":
        return f"{who} {_in_bed(first, rng)}"
    if kind == "leaves":
        door = first.thing or "front door"
        head = rng.choice((f"{who} leaves the house {_at(first.t_us, rng)}",
                           f"{who} goes out through the {door} {_at(first.t_us, rng)}",
                           f"{who} walks to the {door} and leaves the house {_at(first.t_us, rng)}"))
        if then is not None:
            return f"{head} and comes back {duration_phrase(then.duration_s).removeprefix('about ')} later"
        return f"{head}; the home then stays empty {_for(first)}"
    if kind == "comes_home":
        door = first.thing or "front door"
        return rng.choice((f"{who} comes home {_at(first.t_us, rng)}",
                           f"{who} comes back in through the {door} {_at(first.t_us, rng)}",
                           f"the {door} opens {_at(first.t_us, rng)} and {who} comes in after "
                           f"{duration_phrase(first.duration_s)} of quiet"))
    return f"{who} sits on the {first.thing or 'seat'} {_for(first)} {_at(first.t_us, rng)}"     # seated


def cue_sentences(cues: list[Cue], rng: random.Random, who: str) -> list[str]:
    """The window's cues as sentences (at most three stories)."""
    return [sentence(_story(a, b, rng, who)) for a, b in _stories(cues)[:3]]


_SALIENCE = ("gets_up", "leaves", "comes_home", "back_to_bed", "to_bed", "seated", "in_bed")


def cue_short(cues: list[Cue], rng: random.Random, who: str) -> str:
    """The most telling cue as a short phrase: 'someone gets up early in the morning'."""
    first = min(cues, key=lambda c: _SALIENCE.index(c.kind))
    mid = first.t_us + int(first.duration_s * _US / 2) if first.kind in ("in_bed", "seated") else first.t_us
    when = part_phrase(day_part(int(mid // (3600 * _US) % 24)), rng)
    return {"gets_up": f"{who} gets up {when}", "back_to_bed": f"{who} goes back to bed {when}",
            "to_bed": f"{who} goes to bed {when}", "in_bed": f"{who} stays in bed {when}",
            "leaves": f"{who} leaves the house {when}", "comes_home": f"{who} comes home {when}",
            "seated": f"{who} sits on the {first.thing or 'seat'} {when}"}[first.kind]


_STRUCTURED = {"gets_up": "gets up", "back_to_bed": "back to bed", "to_bed": "goes to bed", "in_bed": "in bed",
               "leaves": "leaves the house", "comes_home": "comes home", "seated": "sits"}


def cues_structured(cues: list[Cue]) -> str:
    """'gets up 06:29 (early in the morning); leaves the house 14:05 (in the afternoon), empty 2 h 10 min'."""
    items = []
    for c in cues:
        at = f"{c.hour:02d}:{c.minute:02d} ({day_part(c.hour).phrase})"
        what = _STRUCTURED[c.kind] + (f" on the {c.thing}" if c.kind == "seated" and c.thing else "")
        if c.kind in ("in_bed", "seated"):
            items.append(f"{what} from {at} for {short_duration(c.duration_s)}" + ("+" if c.lower_bound else ""))
        elif c.kind == "leaves":
            items.append(f"{what} {at}, then quiet {short_duration(c.duration_s)}" + ("+" if c.lower_bound else ""))
        else:
            items.append(f"{what} {at}")
    return join_words(items) if len(items) < 3 else "; ".join(items)
