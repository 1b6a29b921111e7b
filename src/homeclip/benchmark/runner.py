"""`run_benchmark`: prepare every home once, train each encoder once per protocol and target, score, record.

Layout of the output folder:
    data/<home>/           prepared datasets (reused while their raw files, layout and settings are unchanged)
    runs/<encoder>/<protocol>/<target>/   training runs (reused while their config and data are unchanged)
    cache/text, cache/features            caption-embedding and frozen-feature caches shared by every run
    benchmark.json, benchmark.html, benchmark.md   the record, written atomically at the end

Protocols (docs/benchmark.md):
    in_home              train on the target's train days (captions only, no labels), score its test days
    leave_one_home_out   train on every OTHER home (plus simulated homes when the spec asks), score the target
                         with none of its labels used by the encoder; zero-shot calibration chosen on the other
                         homes' validation days
    few_shot             for both encoders above: probes fit on k labelled windows per class of the target's
                         train days, next to bag-of-sensors given exactly the same windows
    label_efficient      for both encoders above and bag-of-sensors: budgets of train windows chosen by
                         clustering (k-means, SCAN) or at random, only their labels read, propagated
    supervised           for both encoders above: a classification head fine-tuned on the target's labelled train
                         days and selected on its validation days (runs/<encoder>/<protocol>/<target>/supervised/)
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..io import atomic_write_json, file_sha256
from .scoring import (HomeData, bag_label_efficient, model_label_efficient, score_baselines, score_model,
                      score_supervised)
from .spec import BenchmarkSpec, HomeSpec

log = logging.getLogger(__name__)
SCHEMA = "homeclip.benchmark/1"
TRAINING_PROTOCOLS = ("in_home", "leave_one_home_out")


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def pipeline_digest() -> str:
    """A digest of the data pipeline's code (readers, windows, captions, ...): a prepared dataset made by other
    code is prepared again, so a caption or windowing change never meets a stale dataset."""
    root = Path(__file__).resolve().parents[1] / "data"
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:20]


def prepare_home(spec: HomeSpec, split: dict, out: Path, say: Callable[[str], None]) -> HomeData:
    """The prepared dataset of one home: reused when its key (raw bytes, layout, settings) is unchanged."""
    from ..data.homes import load_home
    from ..data.prepare import prepare_dataset
    from ..data.store import load_dataset
    from ..data.windows import SplitConfig, WindowConfig

    for raw in spec.raw:
        if not Path(raw).exists():
            raise UserError(f"home {spec.name!r}: raw log not found", path=raw)
    home = load_home(spec.home)
    window, split_cfg = WindowConfig(**spec.window), SplitConfig(**{**split, **spec.split})
    key = _digest({"pipeline": pipeline_digest(), "raw": [file_sha256(r) for r in spec.raw if Path(r).is_file()],
                   "home": home.name,
                   "layout": repr(home), "format": spec.format, "labels": spec.labels,
                   "window": window.to_dict(), "split": split_cfg.to_dict()})
    folder = out / spec.name
    key_file = folder / "benchmark_key.json"
    if not (key_file.is_file() and json.loads(key_file.read_text()).get("key") == key):
        say(f"preparing {spec.name} ({', '.join(Path(r).name for r in spec.raw)})")
        raw = spec.raw[0] if len(spec.raw) == 1 else list(spec.raw)
        prepare_dataset(raw, home, folder, fmt=spec.format, labels_path=spec.labels, window=window, split=split_cfg,
                        progress=False)
        atomic_write_json(key_file, {"key": key})
    ds = load_dataset(folder)
    for name in ("train", "test"):
        if len(ds.splits[name]) == 0:
            raise UserError(f"home {spec.name!r} has no {name} windows after preparing; use a longer log or "
                            "shorter windows", path=str(folder))
    return HomeData(name=spec.name, home=home, splits=ds.splits)


def default_window(events_per_day: float) -> dict:
    """The window rule fixed before anything is scored: 50 events for dense logs (>= 1,000 events a day, CASAS
    motion homes), 10 for sparse object/interval homes; stride a quarter of the length."""
    length = 50 if events_per_day >= 1000 else 10
    return {"length": length, "stride": max(1, length // 4)}


def prepare_simulated(spec: BenchmarkSpec, out: Path, say: Callable[[str], None]) -> list[HomeData]:
    """The spec's simulated homes (extra training homes of leave-one-home-out), generated and prepared once."""
    if not spec.simulated:
        return []
    from ..data.simulate.varied import write_varied_homes

    n, days, seed = int(spec.simulated["homes"]), int(spec.simulated.get("days", 7)), int(spec.simulated.get("seed", 0))
    folder = out / "simulated" / f"n{n}_d{days}_s{seed}"
    if not (folder / "index.json").is_file():
        say(f"simulating {n} varied homes x {days} days")
        write_varied_homes(folder, n, days, seed=seed)
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    homes = []
    for entry in index["homes"]:
        name = Path(entry["log"]).parent.name
        home = HomeSpec(name=name, raw=(str(folder / entry["log"]),), home=str(folder / entry["layout"]),
                        format="casas", window=default_window(entry["events"] / max(days, 1)))
        homes.append(prepare_home(home, spec.split, out / "data" / "simulated", say))
    return homes


def _records(entry: dict | list | None) -> list[dict]:
    """A run's data-file record(s) as a list (one file is recorded as one record, several as a list)."""
    return entry if isinstance(entry, list) else [entry] if entry else []


def _split_files(folder: Path, split: str) -> Path:
    from ..data.store import dataset_paths, find_home

    return dataset_paths(folder, find_home(folder))[split]


class Runs:
    """Training runs of the benchmark, each reused while its config and data are unchanged."""

    def __init__(self, spec: BenchmarkSpec, out: Path, device: str, say: Callable[[str], None], text_encoder=None):
        self.spec, self.out, self.device, self.say = spec, out, device, say
        self._given_text = text_encoder
        self._text: dict[str, object] = {}

    def text_encoder(self, name: str, allow_fallback: bool):
        """One frozen text encoder per model name for every run and every scoring (loaded once)."""
        if self._given_text is not None:
            return self._given_text
        if name not in self._text:
            from ..encoders.text import TextEncoder

            self._text[name] = TextEncoder(name, allow_fallback=allow_fallback,
                                           cache_dir=str(self.out / "cache" / "text"))
        return self._text[name]

    def train(self, encoder: str, protocol: str, target: str, folders: list[Path], supervised_from: Path | None = None):
        """The trained model (TrainedModel) of one encoder trained on the datasets in `folders`; with
        `supervised_from` (a trained checkpoint) its supervised head fine-tuned on them instead."""
        from dataclasses import replace

        from ..experiment import validate_every_epoch
        from ..training.checkpoint import load_model
        from ..training.config import load_config
        from ..training.trainer import load_training_data, train

        run_dir = self.out / "runs" / encoder / protocol / target / ("supervised" if supervised_from else "")
        train_files = [_split_files(f, "train") for f in folders]
        val_files = [p for p in (_split_files(f, "val") for f in folders) if p.is_file()]
        overrides = {**self.spec.overrides, "seed": self.spec.seed, "device": self.device, "use_wandb": False,
                     "train_data_path": [str(p) for p in train_files] if len(train_files) > 1 else str(train_files[0]),
                     "val_data_path": ([str(p) for p in val_files] if len(val_files) > 1
                                       else str(val_files[0]) if val_files else ""),
                     "vocab_path": ([str(_split_files(f, "vocab")) for f in folders] if len(folders) > 1
                                    else str(_split_files(folders[0], "vocab"))), "output_dir": str(run_dir),
                     "text_cache_dir": str(self.out / "cache" / "text"),
                     "feature_cache_dir": str(self.out / "cache" / "features")}
        if supervised_from is not None:
            overrides.update({**self.spec.supervised, "objective": "supervised",
                              "init_checkpoint": str(supervised_from)})
        cfg = load_config(self.spec.encoders[encoder], overrides)
        data = load_training_data(cfg)
        cfg = replace(cfg, val_interval=validate_every_epoch(cfg, data))   # best_model.pt: a real selection
        base = [file_sha256(supervised_from)] if supervised_from is not None else []
        key = _digest({"config": {k: v for k, v in cfg.to_dict().items() if k != "output_dir"},
                       "data": [r["sha256"] for role in ("train", "val") for r in _records(data.files.get(role))]
                       + base})   # the digests load_training_data took, in train-then-val order
        key_file = run_dir / "benchmark_run.json"
        best = run_dir / "best_model.pt"
        text = self.text_encoder(cfg.text_model_name, cfg.allow_fallback)
        if not (best.is_file() and key_file.is_file() and json.loads(key_file.read_text()).get("key") == key):
            what = "fine-tuning the supervised head of" if supervised_from is not None else "training"
            self.say(f"{what} {encoder} for {protocol} / {target} on {', '.join(f.name for f in folders)}")
            t0 = time.perf_counter()
            train(cfg, data=data, text_encoder=text, progress=False, overwrite=True)   # our own stale run: its key changed
            atomic_write_json(key_file, {"key": key, "seconds": round(time.perf_counter() - t0, 1),
                                         "train": [str(p) for p in train_files]})
        model = load_model(best, device="cpu")
        model.set_text_encoder(text)
        return model, key, json.loads(key_file.read_text())


def run_benchmark(spec: BenchmarkSpec, out: str | Path, *, device: str = "cpu",
                  say: Callable[[str], None] = print, text_encoder=None) -> dict:
    """Run every protocol of the spec; returns the record also written to `out/benchmark.json`.

    `text_encoder`: an already-built frozen text encoder used by every run instead of the configs' model."""
    out = Path(out)
    t0 = time.perf_counter()
    homes = {h.name: prepare_home(h, spec.split, out / "data", say) for h in spec.homes}
    folders = {name: out / "data" / name for name in homes}
    simulated = prepare_simulated(spec, out, say)
    sim_folders = [out / "data" / "simulated" / h.name for h in simulated]
    runs = Runs(spec, out, device, say, text_encoder)
    ks, draws = spec.few_shot_ks, int(spec.few_shot.get("draws", 5))
    n_boot, boot_seed = int(spec.bootstrap["resamples"]), int(spec.bootstrap["seed"])
    few_shot = "few_shot" in spec.protocols
    record: dict = {"schema": SCHEMA, "spec": spec.to_dict(), "homes": {}, "baselines": {}, "models": {},
                    "simulated_homes": [{"name": h.name, "windows": {s: len(w) for s, w in h.splits.items()}}
                                        for h in simulated]}
    for name, data in homes.items():
        record["homes"][name] = {
            "layout": data.home.name, "windows": {s: len(w) for s, w in data.splits.items()},
            "days": {s: int(len(set(w.day.astype(str)))) for s, w in data.splits.items()},
            "classes": {lv: data.classes(lv) for lv in spec.levels}}
        record["baselines"][name] = {lv: score_baselines(data, lv, ks=ks, draws=draws, n_boot=n_boot, seed=boot_seed,
                                                         few_shot=few_shot) for lv in spec.levels}
        if "label_efficient" in spec.protocols:
            say(f"label efficiency of bag-of-sensors on {name}")
            curves = bag_label_efficient(data, spec.levels, spec.label_efficient, n_boot=n_boot, seed=boot_seed)
            for lv in spec.levels:
                record["baselines"][name][lv]["label_efficient"] = curves[lv]
    for encoder in spec.encoders:
        record["models"][encoder] = {}
        for protocol in (p for p in TRAINING_PROTOCOLS if p in spec.protocols):
            entry = record["models"][encoder].setdefault(protocol, {})
            for target, data in homes.items():
                if protocol == "in_home":
                    train_on, selection = [target], [data]
                    train_folders = [folders[target]]
                else:
                    train_on = [h for h in homes if h != target]
                    selection = [homes[h] for h in train_on] or simulated   # calibration: other homes' val days
                    train_folders = [folders[h] for h in train_on] + sim_folders
                    train_on = train_on + [h.name for h in simulated]
                if not train_on:
                    continue
                model, key, run_info = runs.train(encoder, protocol, target, train_folders)
                say(f"scoring {encoder} / {protocol} on {target}")
                run_dir, cache = out / "runs" / encoder / protocol / target, str(out / "cache" / "features")
                entry[target] = {
                    "trained_on": train_on, "run": str(run_dir),
                    "train_seconds": run_info.get("seconds"), "model": _model_summary(model),
                    "levels": {lv: score_model(model, key, data, selection, lv, calibrations=spec.calibrations, ks=ks,
                                               draws=draws, n_boot=n_boot, seed=boot_seed,
                                               cache_dir=cache, few_shot=few_shot)
                               for lv in spec.levels}}
                levels = entry[target]["levels"]
                if "label_efficient" in spec.protocols:
                    curves = model_label_efficient(model, key, data, spec.levels, spec.label_efficient, n_boot=n_boot,
                                                   seed=boot_seed, cache_dir=cache)
                    for lv in spec.levels:
                        levels[lv]["label_efficient"] = curves[lv]
                if "supervised" in spec.protocols:
                    head, head_key, _ = runs.train(encoder, protocol, target, [folders[target]],
                                                   supervised_from=run_dir / "best_model.pt")
                    for lv in spec.levels:
                        levels[lv]["supervised"] = score_supervised(head, head_key, data, lv, n_boot=n_boot,
                                                                    seed=boot_seed, cache_dir=cache)
    record["seconds"] = round(time.perf_counter() - t0, 1)
    from .report import targets, write_reports

    record["targets"] = targets(record)
    write_reports(record, out)
    return record


def _model_summary(model) -> dict:
    """What a reader of the record needs to know about a trained model (backbone and text encoder used)."""
    from ..evaluation.evaluate import model_info

    info = model_info(model)
    return {"encoder_kind": info["encoder_kind"], "event_fields": (model.config or {}).get("event_fields", "original"),
            "backbone": info["backbone"].get("used") or info["backbone"].get("family") or "none",
            "backbone_fallback": info["backbone"].get("fallback_reason"),
            "text_encoder": (info["text_encoder_training"] or {}).get("used"), "warnings": info["warnings"]}
