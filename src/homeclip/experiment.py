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

    def paths(self) -> dict[str, Path]:
        """The prepared dataset files."""
        return {name: self.data_dir / f"{self.home}_{name}.json" for name in ("train", "val", "test", "vocab")}


def encoder_comparison(config_dir: str | Path) -> dict[str, Path]:
    """The original design's comparison: the Chronos encoder (original config) vs the standard encoder."""
    config_dir = Path(config_dir)
    return {"chronos": config_dir / "chronos_clip.json", "transformer": config_dir / "transformer_clip_mlm.json"}


def short_schedule(epochs: int, seed: int) -> dict[str, Any]:
    """Overrides for a quick local run: fewer epochs, a fixed seed, no wandb."""
    return {"max_epochs": epochs, "use_wandb": False, "seed": seed}


def train_runs(exp: Experiment, *, say=print) -> dict[str, Path]:
    """Train every config of the experiment; run name -> its best checkpoint (final one if none was kept)."""
    from .training.config import load_config
    from .training.trainer import train

    paths = exp.paths()
    checkpoints: dict[str, Path] = {}
    for name, config_path in exp.configs.items():
        say(f"training '{name}' ({config_path.name})")
        cfg = load_config(config_path, {
            "train_data_path": str(paths["train"]), "val_data_path": str(paths["val"]),
            "vocab_path": str(paths["vocab"]), "output_dir": str(exp.out / "models" / name),
            "device": exp.device,
            "text_cache_dir": str(exp.out / "cache" / "text"),
            "feature_cache_dir": str(exp.out / "cache" / "features"),
            **exp.overrides, **exp.run_overrides.get(name, {}),
        })
        result = train(cfg)
        best = result.output_dir / "best_model.pt"
        checkpoints[name] = best if best.is_file() else result.output_dir / "final_model.pt"
    return checkpoints


def run_experiment(exp: Experiment, *, say=print) -> dict:
    """Train every config, evaluate its best checkpoint on the test split, and write the comparison."""
    from .evaluation.compare import compare_runs
    from .evaluation.evaluate import evaluate_checkpoint

    paths = exp.paths()
    eval_dirs: dict[str, Path] = {}
    for name, checkpoint in train_runs(exp, say=say).items():
        say(f"evaluating '{name}'")
        eval_dirs[name] = exp.out / "eval" / name
        evaluate_checkpoint(checkpoint, paths["train"], paths["test"], paths["vocab"], eval_dirs[name],
                            home=exp.home, device="cpu" if exp.device == "auto" else exp.device)
    say("comparing")
    table = compare_runs(list(eval_dirs.values()), exp.out / "compare")
    return {"eval_dirs": eval_dirs, "compare_dir": exp.out / "compare", "table": table}
