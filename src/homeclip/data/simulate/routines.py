"""Residents' routines: one resident's habits (`Routine`, drawn per resident by `draw_routine`) and the day plan
that turns them into activities on the event engine.

A day: wake, wash or shower, morning meds, breakfast (unless skipped), a morning block or a day at work,
lunch, an afternoon block, dinner, an evening block, evening meds, a last toilet visit, bed before midnight.
Free blocks are filled with desk work / reading / TV / chores / outings (some of them shopping) / laundry /
drinks / toilet visits and idle pauses, by the resident's tastes. Night sleep spans midnight and is
interrupted by bed-to-toilet trips after 01:00. Times vary from day to day around the resident's own means.

The defaults of `Routine` are the classic routine every packaged home has always been simulated with: its
random draws happen in the same order, so a packaged home's log is byte-identical for a seed.
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from .engine import DAY, HOUR, Resident, chance

FREE_CHOICES = ("desk", "read", "watch_tv", "chores", "outing", "meditate", "laundry", "get_drink")
# Weights of FREE_CHOICES by part of the day, before the resident's tastes multiply them.
_PART_WEIGHTS = {"morning": (3.0, 1.5, 0.5, 0.8, 1.5, 0.3, 0.5, 0.6),
                 "afternoon": (2.0, 1.5, 1.5, 0.6, 1.5, 0.3, 0.5, 0.8),
                 "evening": (0.5, 2.0, 3.0, 0.1, 0.2, 0.3, 0.1, 0.6),
                 "late": (0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.3)}
_SPANS = {"desk": (30, 100), "read": (20, 70), "watch_tv": (30, 120), "chores": (15, 50), "outing": (45, 200),
          "meditate": (15, 30), "laundry": (15, 40), "get_drink": (2, 5)}      # minutes


@dataclass(frozen=True)
class Routine:
    """One resident's habits: hours of the day (means, spreads, limits), chances and tastes."""

    wake: float = 6.8
    wake_sd: float = 0.45
    wake_range: tuple[float, float] = (5.5, 9.0)
    weekend_lie_in: float = 0.6                 # hours later on weekend mornings
    lie_in_every_weekend: bool = False          # the classic routine honours it on the first morning only
    bedtime: float = 22.6
    bedtime_sd: float = 0.5
    bedtime_range: tuple[float, float] = (21.3, 23.85)
    lunch: float = 12.3
    lunch_range: tuple[float, float] = (11.3, 13.5)
    dinner: float = 18.0
    dinner_range: tuple[float, float] = (16.8, 19.5)
    breakfast_prob: float = 1.0                 # below 1: some days no breakfast at all
    eat_prob: float = 0.75                      # eats the breakfast / lunch made (dinner always)
    dishes_prob: float = 0.6
    cook_minutes: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"breakfast": (8, 20), "lunch": (10, 25), "dinner": (20, 45)})
    eat_minutes: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"breakfast": (8, 20), "lunch": (10, 20), "dinner": (15, 30)})
    shower_prob: float = 0.3                    # a morning shower rather than a wash
    toilet_every: tuple[float, float] = (1.5, 3.0)   # hours between daytime toilet visits
    night_trips: tuple[float, float, float] = (0.35, 0.45, 0.2)   # weights of 0, 1, 2 bed-to-toilet trips
    takes_meds: bool = True
    work_days: tuple[int, ...] = ()             # weekdays (0 = Monday) spent out at work
    work_hours: tuple[float, float] = (8.5, 17.0)
    tastes: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0)   # multiply FREE_CHOICES' weights
    max_outings: int = 2                        # per day, work not counted
    shopping_prob: float = 0.0                  # an outing is a shopping trip (groceries put away after)
    shuts_doors: float = 0.8                    # opens and shuts a private room's door on the way in/out

    def to_dict(self) -> dict:
        """Plain JSON-able parameters (for the index of generated homes)."""
        out = asdict(self)
        out["tastes"] = dict(zip(FREE_CHOICES, self.tastes))
        return out


def draw_routine(rng: random.Random, *, has_laundry: bool = True, has_desk: bool = True,
                 meditates: bool = False) -> Routine:
    """A resident's own habits: early bird or night owl, skips breakfast or not, works out or stays home...
    (no desk work in a home without a desk, no laundry without a washing machine)."""
    u = rng.uniform
    wake = round(u(5.8, 8.6), 2)
    bedtime = round(u(max(21.0, wake + 13.0), 23.5), 2)
    works = rng.random() < 0.45
    work_days = tuple(sorted(rng.sample(range(5), rng.choice((3, 4, 5, 5))))) if works else ()
    start = round(max(wake + 1.0, u(7.5, 9.5)), 2)
    end = round(min(start + u(5.0, 9.0), bedtime - 3.5), 2)
    dinner = round(max(u(17.5, 20.5), end + 0.75 if works else 0.0), 2)
    dinner = min(dinner, bedtime - 2.0)
    lunch = round(u(11.8, 13.4), 2)
    cook = {"breakfast": (u(3, 8), u(10, 25)), "lunch": (u(5, 10), u(12, 35)), "dinner": (u(8, 20), u(25, 70))}
    toilet_lo = u(1.0, 2.5)
    desk, read, tv, chores = (round(u(0.2, 2.0), 2) for _ in range(4))
    tastes = (desk if has_desk else 0.0, read, tv, chores, round(u(0.3, 2.0), 2), 1.0 if meditates else 0.0,
              round(u(0.2, 1.0), 2) if has_laundry else 0.0, round(u(0.2, 1.5), 2))
    return Routine(
        wake=wake, wake_sd=round(u(0.2, 0.7), 2), wake_range=(max(4.5, wake - 1.3), min(11.0, wake + 2.0)),
        weekend_lie_in=round(u(0.0, 1.8), 2), lie_in_every_weekend=True,
        bedtime=bedtime, bedtime_sd=round(u(0.2, 0.7), 2), bedtime_range=(bedtime - 1.2, min(23.9, bedtime + 0.6)),
        lunch=lunch, lunch_range=(lunch - 1.0, lunch + 1.2),
        dinner=dinner, dinner_range=(dinner - 1.0, min(dinner + 1.2, bedtime - 1.6)),
        breakfast_prob=1.0 if rng.random() < 0.6 else round(u(0.1, 0.8), 2),
        eat_prob=round(u(0.6, 1.0), 2), dishes_prob=round(u(0.3, 0.95), 2),
        cook_minutes={k: (round(a, 1), round(b, 1)) for k, (a, b) in cook.items()},
        eat_minutes={"breakfast": (5, round(u(10, 25), 1)), "lunch": (8, round(u(15, 30), 1)),
                     "dinner": (10, round(u(20, 45), 1))},
        shower_prob=round(u(0.15, 0.95), 2),
        toilet_every=(round(toilet_lo, 2), round(toilet_lo + u(0.5, 2.0), 2)),
        night_trips=tuple(round(w, 2) for w in (u(0.1, 1.0), u(0.1, 0.8), u(0.0, 0.4))),
        takes_meds=rng.random() < 0.5, work_days=work_days, work_hours=(start, end), tastes=tastes,
        max_outings=rng.choice((1, 2, 2, 3)), shopping_prob=round(u(0.15, 0.6), 2),
        shuts_doors=round(u(0.5, 1.0), 2))


def live(sim: Resident, routine: Routine, day0: date, days: int) -> None:
    """Run the routine for `days` days from `day0` (midnight to midnight)."""
    for d in range(days):
        weekday = (day0 + timedelta(days=d)).weekday()
        run_day(sim, routine, d, weekday, next_weekend=(weekday + 1) % 7 >= 5)


def run_day(sim: Resident, r: Routine, d: int, weekday: int, next_weekend: bool) -> None:
    """Night sleep from the previous bedtime (or midnight on day 0), then the waking day, then bedtime."""
    rng, base, weekend = sim.rng, d * DAY, weekday >= 5
    wake = base + _clip(rng.gauss(r.wake + r.weekend_lie_in * weekend, r.wake_sd), *r.wake_range) * HOUR
    if d == 0:
        sleep_until(sim, r, wake)
    meals = {"lunch": base + _clip(rng.gauss(r.lunch, 0.4), *r.lunch_range) * HOUR,
             "dinner": base + _clip(rng.gauss(r.dinner, 0.5), *r.dinner_range) * HOUR}
    bedtime = base + _clip(rng.gauss(r.bedtime, r.bedtime_sd), *r.bedtime_range) * HOUR
    sim.do("wake", rng.uniform(3, 10) * 60)
    sim.do("bathe" if rng.random() < r.shower_prob else "hygiene", rng.uniform(8, 25) * 60)
    if r.takes_meds:
        sim.do("morning_meds", rng.uniform(1, 3) * 60)
    if chance(rng, r.breakfast_prob):
        meal(sim, r, "breakfast")
    outings = [0]
    if weekday in r.work_days and not weekend:
        leave = base + _clip(rng.gauss(r.work_hours[0], 0.2), r.work_hours[0] - 0.5, r.work_hours[0] + 0.5) * HOUR
        back = base + _clip(rng.gauss(r.work_hours[1], 0.4), r.work_hours[1] - 1.0, r.work_hours[1] + 1.0) * HOUR
        free_block(sim, r, leave, "morning", outings)
        sim.outing(max(back - sim.t, 30 * 60), "go_to_work")
    else:
        free_block(sim, r, meals["lunch"], "morning", outings)
        meal(sim, r, "lunch")
    free_block(sim, r, meals["dinner"] - 30 * 60, "afternoon", outings)
    meal(sim, r, "dinner")
    free_block(sim, r, bedtime - 75 * 60, "evening", outings)
    if r.takes_meds:
        sim.do("evening_meds", rng.uniform(1, 3) * 60)
    free_block(sim, r, bedtime - 15 * 60, "late", outings)
    sim.do("toilet", rng.uniform(3, 8) * 60)
    sim.wait_until(bedtime)
    lie_in = r.weekend_lie_in * next_weekend if r.lie_in_every_weekend else 0.0
    next_wake = base + DAY + _clip(rng.gauss(r.wake + lie_in, r.wake_sd), *r.wake_range) * HOUR
    sleep_until(sim, r, next_wake)


def sleep_until(sim: Resident, r: Routine, wake: float) -> None:
    """Sleep (interrupted by bed-to-toilet trips only after 01:00, so the first stretch spans midnight)."""
    rng = sim.rng
    night_start = math.floor(wake / DAY) * DAY + HOUR
    n_trips = rng.choices((0, 1, 2), weights=r.night_trips)[0]
    trips = sorted(rng.uniform(night_start, max(night_start, wake - 45 * 60)) for _ in range(n_trips))
    for trip in trips:
        sim.do("sleep", trip - sim.t)
        sim.do("bed_to_toilet", rng.uniform(1, 4) * 60)
    sim.do("sleep", wake - sim.t)


def meal(sim: Resident, r: Routine, name: str) -> None:
    """Cook, eat and maybe wash up."""
    rng = sim.rng
    cook_s, eat_s = rng.uniform(*r.cook_minutes[name]) * 60, rng.uniform(*r.eat_minutes[name]) * 60
    sim.do(f"cook_{name}", cook_s)
    if name == "dinner" or rng.random() < r.eat_prob:
        sim.do(f"eat_{name}", eat_s)
    if rng.random() < r.dishes_prob:
        sim.do(f"dishes_{name}", rng.uniform(4, 12) * 60)


def free_block(sim: Resident, r: Routine, until: float, part: str, outings: list[int]) -> None:
    """Fill free time with the resident's pastimes, outings, toilet visits and idle pauses."""
    rng, layout = sim.rng, sim.layout
    weights = tuple(w * taste for w, taste in zip(_PART_WEIGHTS[part], r.tastes))
    last_toilet = sim.t
    while sim.t < until - 10 * 60:
        sim.idle(rng.uniform(2, 12) * 60)
        if sim.t - last_toilet > rng.uniform(*r.toilet_every) * HOUR:
            sim.do("toilet", rng.uniform(2, 6) * 60)
            last_toilet = sim.t
            continue
        key = rng.choices(FREE_CHOICES, weights=weights)[0]
        if key == "outing" and outings[0] >= r.max_outings:
            key = "read"
        if key == "meditate" and layout.labels["meditate"] is None:
            key = "watch_tv"
        if key == "laundry" and "laundry" not in layout.found:     # no washing machine: nothing to load
            key = "read"
        length = min(rng.uniform(*_SPANS[key]) * 60, until - sim.t)
        if until - sim.t < 5 * 60:
            break
        if key == "outing":
            outings[0] += 1
            if chance(rng, r.shopping_prob):
                if sim.outing(length, "shopping"):
                    sim.do("put_away", rng.uniform(3, 8) * 60)
            else:
                sim.outing(length)
        elif key == "chores":
            sim.chores(length)
        else:
            sim.do(key, length)
    sim.wait_until(until)


def _clip(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)
