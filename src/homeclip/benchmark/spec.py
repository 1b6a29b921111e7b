"""BenchmarkSpec: which homes, encoders and protocols `homeclip benchmark` runs (a JSON file, validated).

    {"name": "shared_homes",
     "homes": [{"name": "al_smarthome", "raw": "../shared/data/casas/al_smarthome/data.txt",
                "home": "alsmarthome", "format": "casas-labelled", "window": {"length": 50}}, ...],
     "simulated": {"homes": 8, "days": 10, "seed": 0},
     "encoders": {"transformer": "configs/training/transfer/transformer_semantic.json"},
     "overrides": {"max_epochs": 10},
     "protocols": ["in_home", "leave_one_home_out", "few_shot", "label_efficient", "supervised"],
     "label_efficient": {"budgets": [10, 30, 100], "draws": 3},
     "supervised": {"max_epochs": 20}}

Relative paths are relative to the spec file. Every number the benchmark reports is fixed by the spec before
anything is scored: nothing is tuned on test days.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..io import read_json
from ..evaluation.protocols import LABEL_EFFICIENT_METHODS
from ..training.config import suggest

PROTOCOLS = ("in_home", "leave_one_home_out", "few_shot", "label_efficient", "supervised")
DEFAULT_PROTOCOLS = ("in_home", "leave_one_home_out", "few_shot")
LEVELS = ("l1", "l2")
_HOME_KEYS = ("name", "raw", "home", "format", "labels", "window", "split")
_TOP_KEYS = ("name", "homes", "simulated", "encoders", "overrides", "protocols", "few_shot", "levels", "split",
             "bootstrap", "calibrations", "seed", "label_efficient", "supervised")
_LABEL_EFFICIENT_KEYS = ("budgets", "methods", "draws")


LABEL_EFFICIENT_DEFAULTS = {"budgets": [10, 30, 100], "draws": 3, "methods": list(LABEL_EFFICIENT_METHODS)}
# The supervised head reads unit embeddings: a linear layer that needs more epochs than the CLIP runs' few.
SUPERVISED_DEFAULTS = {"max_epochs": 30, "freeze_encoder": True}


@dataclass(frozen=True)
class HomeSpec:
    """One real home: its raw log (a file or a list), layout, reader format and window settings."""

    name: str
    raw: tuple[str, ...]
    home: str
    format: str = "auto"
    labels: str | None = None
    window: dict = field(default_factory=dict)       # WindowConfig keyword arguments
    split: dict = field(default_factory=dict)        # SplitConfig keyword arguments (overrides the spec's)


@dataclass(frozen=True)
class BenchmarkSpec:
    """Everything a benchmark run needs; `to_dict()` is recorded in the benchmark JSON."""

    name: str
    homes: tuple[HomeSpec, ...]
    encoders: dict[str, str]                         # run name -> training config path
    overrides: dict = field(default_factory=dict)    # training config overrides for every run
    protocols: tuple[str, ...] = DEFAULT_PROTOCOLS
    simulated: dict = field(default_factory=dict)    # {"homes": N, "days": D, "seed": S}: extra training homes
    few_shot: dict = field(default_factory=lambda: {"k": [1, 5, 20, "all"], "draws": 5})
    levels: tuple[str, ...] = ("l2", "l1")
    split: dict = field(default_factory=dict)        # SplitConfig keyword arguments for every home
    bootstrap: dict = field(default_factory=lambda: {"resamples": 1000, "seed": 0})
    calibrations: tuple[str, ...] = ("none", "centre", "isoftmax", "both")
    seed: int = 0
    # label_efficient: budgets of labelled windows, selection_propagation methods, seeded draws per budget
    label_efficient: dict = field(default_factory=lambda: dict(LABEL_EFFICIENT_DEFAULTS))
    supervised: dict = field(default_factory=lambda: dict(SUPERVISED_DEFAULTS))   # training config overrides

    def to_dict(self) -> dict:
        """Plain JSON form."""
        return asdict(self)

    @property
    def few_shot_ks(self) -> list[int | None]:
        """The k values of the few-shot curve (None = every labelled train window)."""
        return [None if k == "all" else int(k) for k in self.few_shot.get("k", [1, 5, 20, "all"])]


def load_spec(path: str | Path) -> BenchmarkSpec:
    """Read and validate a benchmark spec file; relative paths resolve against its folder."""
    path = Path(path)
    doc = read_json(path, "benchmark spec")
    return spec_from_dict(doc, base=path.parent, source=str(path))


def spec_from_dict(doc: Any, *, base: Path = Path("."), source: str = "<spec>") -> BenchmarkSpec:
    """Validate a decoded spec document (errors name the key path)."""
    if not isinstance(doc, dict):
        raise UserError("a benchmark spec must be a JSON object", path=source)
    _known(doc, _TOP_KEYS, "", source)
    for key in ("name", "homes", "encoders"):
        if key not in doc:
            raise UserError(f"{key}: missing required key", path=source)
    homes = doc["homes"]
    if not isinstance(homes, list) or not homes:
        raise UserError("homes: expected a non-empty list of homes", path=source)
    parsed = tuple(_home(h, i, base, source) for i, h in enumerate(homes))
    names = [h.name for h in parsed]
    if len(set(names)) != len(names):
        raise UserError(f"homes: names must be unique, found {names}", path=source)
    encoders = doc["encoders"]
    if not isinstance(encoders, dict) or not encoders or not all(isinstance(v, str) for v in encoders.values()):
        raise UserError("encoders: expected an object mapping run name -> training config path", path=source)
    for name in encoders:
        _identifier(name, f"encoders.{name}", source)
    protocols = tuple(doc.get("protocols", DEFAULT_PROTOCOLS))
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad:
        raise UserError(f"protocols: unknown {bad}{suggest(bad[0], PROTOCOLS)} (expected some of {list(PROTOCOLS)})",
                        path=source)
    if "leave_one_home_out" in protocols and len(parsed) + int(bool(doc.get("simulated"))) < 2:
        raise UserError("protocols: leave_one_home_out needs at least two homes (or simulated homes)", path=source)
    levels = tuple(doc.get("levels", ("l2", "l1")))
    if not levels or any(lv not in LEVELS for lv in levels):
        raise UserError(f"levels: expected some of {list(LEVELS)}, found {list(levels)}", path=source)
    few_shot = dict(doc.get("few_shot", {"k": [1, 5, 20, "all"], "draws": 5}))
    ks = few_shot.get("k", [])
    if not isinstance(ks, list) or not ks or not all(k == "all" or (isinstance(k, int) and k >= 1) for k in ks):
        raise UserError(f"few_shot.k: expected a list of positive integers or \"all\", found {ks}", path=source)
    if not isinstance(few_shot.get("draws", 5), int) or few_shot.get("draws", 5) < 1:
        raise UserError("few_shot.draws: expected a positive integer", path=source)
    from ..evaluation.zeroshot import CALIBRATIONS

    calibrations = tuple(doc.get("calibrations", CALIBRATIONS))
    if not calibrations or any(c not in CALIBRATIONS for c in calibrations):
        raise UserError(f"calibrations: expected some of {list(CALIBRATIONS)}, found {list(calibrations)}", path=source)
    simulated = doc.get("simulated") or {}
    if simulated and (not isinstance(simulated, dict) or not isinstance(simulated.get("homes"), int)
                      or simulated["homes"] < 1):
        raise UserError("simulated: expected {\"homes\": N >= 1, \"days\": D, \"seed\": S}", path=source)
    label_efficient = _label_efficient(doc.get("label_efficient", {}), source)
    supervised = doc.get("supervised", {})
    if not isinstance(supervised, dict):
        raise UserError("supervised: expected an object of training config overrides", path=source)
    return BenchmarkSpec(
        name=_identifier(doc["name"], "name", source), homes=parsed,
        encoders={k: str(_resolve(v, base)) for k, v in encoders.items()},
        overrides=dict(doc.get("overrides", {})), protocols=protocols, simulated=dict(simulated),
        few_shot=few_shot, levels=levels, split=dict(doc.get("split", {})),
        bootstrap={"resamples": 1000, "seed": 0, **dict(doc.get("bootstrap", {}))}, calibrations=calibrations,
        seed=int(doc.get("seed", 0)), label_efficient=label_efficient,
        supervised={**SUPERVISED_DEFAULTS, **supervised})


def _label_efficient(doc: Any, source: str) -> dict:
    """The label_efficient settings over their defaults, validated."""
    if not isinstance(doc, dict):
        raise UserError("label_efficient: expected an object with budgets, methods, draws", path=source)
    _known(doc, _LABEL_EFFICIENT_KEYS, "label_efficient.", source)
    out = {**LABEL_EFFICIENT_DEFAULTS, **doc}
    budgets = out["budgets"]
    if not isinstance(budgets, list) or not budgets or not all(isinstance(b, int) and not isinstance(b, bool)
                                                                and b >= 1 for b in budgets):
        raise UserError(f"label_efficient.budgets: expected a list of positive integers, found {budgets}", path=source)
    methods = out["methods"]
    bad = [m for m in methods if m not in LABEL_EFFICIENT_METHODS] if isinstance(methods, list) else [methods]
    if bad or not methods:
        hint = suggest(str(bad[0]), LABEL_EFFICIENT_METHODS) if bad else ""
        raise UserError(f"label_efficient.methods: unknown {bad}{hint} (expected some of "
                        f"{list(LABEL_EFFICIENT_METHODS)})", path=source)
    if not isinstance(out["draws"], int) or out["draws"] < 1:
        raise UserError("label_efficient.draws: expected a positive integer", path=source)
    return out


def _home(doc: Any, i: int, base: Path, source: str) -> HomeSpec:
    where = f"homes[{i}]"
    if not isinstance(doc, dict):
        raise UserError(f"{where}: expected an object with name, raw, home", path=source)
    _known(doc, _HOME_KEYS, f"{where}.", source)
    for key in ("name", "raw", "home"):
        if key not in doc:
            raise UserError(f"{where}.{key}: missing required key", path=source)
    raw = doc["raw"] if isinstance(doc["raw"], list) else [doc["raw"]]
    if not raw or not all(isinstance(r, str) and r for r in raw):
        raise UserError(f"{where}.raw: expected a path or a list of paths", path=source)
    home = doc["home"]
    home_value = str(_resolve(home, base)) if home.endswith(".json") else home
    labels = doc.get("labels")
    return HomeSpec(name=_identifier(doc["name"], f"{where}.name", source),
                    raw=tuple(str(_resolve(r, base)) for r in raw), home=home_value,
                    format=str(doc.get("format", "auto")),
                    labels=None if labels is None else str(_resolve(labels, base)),
                    window=dict(doc.get("window", {})), split=dict(doc.get("split", {})))


def _known(doc: dict, keys: tuple[str, ...], prefix: str, source: str) -> None:
    for key in doc:
        if key not in keys:
            raise UserError(f"{prefix}{key}: unknown key{suggest(key, keys)} (expected some of {', '.join(keys)})",
                            path=source)


def _identifier(value: Any, key: str, source: str) -> str:
    """A name that becomes a folder: the project's one plain-name rule."""
    from ..paths import plain_name

    if not isinstance(value, str):
        raise UserError(f"{key}: expected a plain name, found {json.dumps(value)}", path=source)
    return plain_name(value, key, path=source)


def _resolve(value: str, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)
