"""Many varied homes at once: per home `DIR/<home>/<home>.txt` (the log) and `DIR/<home>/<home>.json` (its
layout), and `DIR/index.json` listing every home's template, sensor style, naming style, reporting, routine and
sensor semantics. Homes are simulated in parallel processes; each depends only on its own seed.
"""
from __future__ import annotations

import json
import logging
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ...errors import UserError
from ...io import atomic_dir
from . import DEFAULT_START, check_span
from .household import check_residents
from .floorplans import TEMPLATES
from .generate import generate_home
from .sensors import SENSOR_STYLES

log = logging.getLogger(__name__)
INDEX_SCHEMA = "homeclip.simulated_homes/1"


def varied_plan(n_homes: int, seed: int) -> list[tuple[str, int, str, str]]:
    """(name, home seed, template, sensor style) per home: every template x style pair once per 16 homes."""
    pairs = [(t, s) for t in sorted(TEMPLATES) for s in SENSOR_STYLES]
    plan = []
    for i in range(n_homes):
        cycle, k = divmod(i, len(pairs))
        if k == 0:
            order = pairs[:]
            random.Random(f"homeclip-varied:{seed}:cycle{cycle}").shuffle(order)
        home_seed = random.Random(f"homeclip-varied:{seed}:{i}").getrandbits(31)
        plan.append((f"sim_{i:03d}", home_seed, *order[k]))
    return plan


def simulate_one(folder: str, name: str, home_seed: int, template: str, style: str, days: int,
                 start: str, residents: int = 1) -> dict:
    """Generate one home, simulate it and write its log and layout into `folder/<name>/`; its index entry."""
    started = time.perf_counter()
    home = generate_home(home_seed, name, template, style)
    lines = home.simulate(days, start, residents)
    out = Path(folder) / name
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / f"{name}.json").write_text(json.dumps(home.layout_json(), indent=1) + "\n", encoding="utf-8")
    return home.describe(residents) | {"log": f"{name}/{name}.txt", "layout": f"{name}/{name}.json", "days": days,
                              "events": len(lines), "seconds": round(time.perf_counter() - started, 2)}


def write_varied_homes(out_dir: str | Path, n_homes: int, days: int, seed: int = 0, start: str = DEFAULT_START,
                       workers: int | None = None, residents: int = 1) -> dict:
    """Write `n_homes` generated homes with `days` days each into `out_dir` (atomically); returns the index.
    `residents` > 1: every home has that many residents (labels per resident, docs/simulator.md)."""
    if not isinstance(n_homes, int) or n_homes < 1:
        raise UserError(f"--varied: expected a number of homes >= 1, found {n_homes!r}")
    check_span(days, start)                 # in this process: a worker's error would come back as a traceback
    check_residents(residents)
    workers = max(1, min(workers or _cpus(), n_homes))
    started = time.perf_counter()
    plan = varied_plan(n_homes, seed)
    with atomic_dir(out_dir) as tmp:
        jobs = [(str(tmp), name, home_seed, template, style, days, start, residents)
                for name, home_seed, template, style in plan]
        if workers == 1:
            homes = [simulate_one(*job) for job in jobs]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                homes = list(pool.map(simulate_one, *zip(*jobs)))
        index = {"schema": INDEX_SCHEMA, "seed": seed, "days": days, "start": start, "n_homes": n_homes,
                 "events": sum(h["events"] for h in homes), "seconds": round(time.perf_counter() - started, 1),
                 "workers": workers, "homes": homes}
        (tmp / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    log.info("simulated %d homes x %d days: %d events in %.1f s (%d workers)", n_homes, days, index["events"],
             index["seconds"], workers)
    return index


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not on Linux
        return os.cpu_count() or 1
