"""One experiment: train several encoders on one prepared dataset, evaluate each, compare them.

Used by `homeclip demo` and `benchmarks/real_data.py`, so both run exactly the same steps."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Experiment:
    """Where the prepared data is, which training configs to run, and where outputs go."""

    data_dir: Path                       # holds <home>_{train,val,test,vocab}.json
    home: str
    out: Path
    configs: dict[str, Path]             # run name -> training config JSON
    overrides: dict[str, Any] = field(default_factory=dict)          # applied to every run
    run_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # per run name
    device: str = "auto"
    overwrite: bool = False              # replace earlier runs' outputs in out/models/<name> (else refused)
    progress: bool = True

    def run_dir(self, name: str) -> Path:
        """Where run `name` trains."""
        return self.out / "models" / name

    def cache_dirs(self) -> dict[str, str]:
        """The caption-embedding and frozen-feature caches every run of the experiment shares."""
        return {"text_cache_dir": str(self.out / "cache" / "text"),
                "feature_cache_dir": str(self.out / "cache" / "features")}

    def paths(self) -> dict[str, Path]:
        """The prepared dataset files."""
        return {name: self.data_dir / f"{self.home}_{name}.json" for name in ("train", "val", "test", "vocab")}


def packaged_configs() -> Path:
    """The training configs shipped in the package (configs/training/milan/ of a checkout is the same folder)."""
    from importlib import resources

    return Path(str(resources.files("homeclip") / "configs" / "training" / "milan"))


def encoder_comparison(config_dir: str | Path) -> dict[str, Path]:
    """The original design's comparison: the Chronos encoder (original config) vs the standard encoder."""
    config_dir = Path(config_dir)
    return {"chronos": config_dir / "chronos_clip.json", "transformer": config_dir / "transformer_clip_mlm.json"}


def validate_every_epoch(cfg, data) -> int:
    """A val_interval that validates at least once per epoch, so best_model.pt is a real selection."""
    from .training.trainer import steps_per_epoch

    return max(1, min(cfg.val_interval, steps_per_epoch(cfg, data)))


def short_schedule(epochs: int, seed: int) -> dict[str, Any]:
    """Overrides for a quick local run: fewer epochs, a fixed seed, no wandb."""
    return {"max_epochs": epochs, "use_wandb": False, "seed": seed}


def train_runs(exp: Experiment, *, say=print) -> dict[str, Path]:
    """Train every config of the experiment (validating at least once per epoch); run name -> its best
    checkpoint (the final one if none was kept)."""
    from dataclasses import replace

    from .training.config import load_config
    from .training.trainer import load_training_data, train

    paths, caches = exp.paths(), exp.cache_dirs()
    checkpoints: dict[str, Path] = {}
    loaded: dict[tuple, Any] = {}
    for name, config_path in exp.configs.items():
        say(f"training '{name}' ({config_path.name})")
        cfg = load_config(config_path, {
            "train_data_path": str(paths["train"]), "val_data_path": str(paths["val"]),
            "vocab_path": str(paths["vocab"]), "output_dir": str(exp.run_dir(name)),
            "device": exp.device, **caches, **exp.overrides, **exp.run_overrides.get(name, {}),
        })
        key = (str(cfg.train_data_path), str(cfg.val_data_path), str(cfg.vocab_path))
        data = loaded[key] = loaded.get(key) or load_training_data(cfg)   # runs on the same files read them once
        cfg = replace(cfg, val_interval=validate_every_epoch(cfg, data))
        result = train(cfg, data=data, overwrite=exp.overwrite, progress=exp.progress)
        best = result.output_dir / "best_model.pt"
        checkpoints[name] = best if best.is_file() else result.output_dir / "final_model.pt"
    return checkpoints


def run_experiment(exp: Experiment, *, say=print) -> dict:
    """Train every config, evaluate its best checkpoint on the test split, and write the comparison."""
    from .evaluation.compare import compare_runs
    from .evaluation.evaluate import EvalConfig, evaluate_checkpoint

    paths, caches = exp.paths(), exp.cache_dirs()
    eval_dirs: dict[str, Path] = {}
    for name, checkpoint in train_runs(exp, say=say).items():
        say(f"evaluating '{name}'")
        eval_dirs[name] = exp.out / "eval" / name
        evaluate_checkpoint(checkpoint, paths["train"], paths["test"], paths["vocab"], eval_dirs[name],
                            home=exp.home, cfg=EvalConfig(**caches, progress=exp.progress),
                            device="cpu" if exp.device == "auto" else exp.device)
    say("comparing")
    table = compare_runs(list(eval_dirs.values()), exp.out / "compare")
    return {"eval_dirs": eval_dirs, "compare_dir": exp.out / "compare", "table": table}
