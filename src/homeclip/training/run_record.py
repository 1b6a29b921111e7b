"""What a training run writes about itself: hyperparameters.json when it starts (config, versions, models,
fallbacks, the run's facts) and run_summary.txt when it ends. Read off a Trainer; never part of the loop."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..io import atomic_write_json, atomic_write_text
from .data import windows_per_home
from .environment import library_versions
from .model import count_parameters

if TYPE_CHECKING:
    from .trainer import Trainer


def fmt_loss(value: float | None) -> str:
    """A loss as the logs show it ("n/a" before there is one)."""
    return "n/a" if value is None else f"{value:.4f}"


def run_facts(run: "Trainer") -> dict:
    """Run facts saved in checkpoints and hyperparameters.json."""
    per_home = {"train": windows_per_home(run.train_set), "val": windows_per_home(run.val_set)}
    return {"home": run.train_set.home, "validation_is_test_split": run.validation_is_test,
            "data_files": run.files, "windows": {"train": len(run.train_set),
                                                  "val": 0 if run.val_set is None else len(run.val_set)},
            "homes": {role: list(counts) for role, counts in per_home.items()}, "windows_per_home": per_home,
            "event_fields": run.cfg.event_fields,
            "train_content_hash": run.train_content_hash, "distinct_captions": len(run.captions.texts),
            "skipped": dict(run.skipped), "world_size": run.dist.world_size, "device": run.device,
            "feature_cache": bool(run.use_cache), "total_steps": run.total_steps,
            "steps_per_epoch": run.steps_per_epoch}


def write_hyperparameters(run: "Trainer") -> None:
    """hyperparameters.json: the config, library versions, encoder, backbone, fallbacks and the run's facts."""
    trainable, total = count_parameters(run.model)
    atomic_write_json(run.out / "hyperparameters.json", {
        "config": run.cfg.to_dict(), "versions": library_versions(), "device": run.device,
        "encoder": {"kind": run.cfg.encoder, "config": run.model.sensor_encoder.get_config()},
        "backbone": run.backbone_info, "text_encoder": run.text_encoder.info(),
        "fallbacks": fallbacks(run), "parameters": {"trainable": trainable, "total": total},
        "amp": {"requested": run.cfg.use_amp, "active": run.amp, "dtype": run.cfg.amp_dtype},
        **run_facts(run),
    })

def fallbacks(run: "Trainer") -> list[str]:
    """One sentence per model that fell back to another (backbone, text encoder)."""
    out = []
    if run.backbone_info.get("fallback_reason"):
        out.append(f"backbone {run.backbone_info.get('requested')} -> {run.backbone_info.get('used')}: "
                   f"{run.backbone_info['fallback_reason']}")
    if run.text_encoder.fallback_reason:
        out.append(f"text encoder {run.cfg.text_model_name} -> {run.text_encoder.model_used}: "
                   f"{run.text_encoder.fallback_reason}")
    return out

def write_summary(run: "Trainer", seconds: float) -> None:
    """run_summary.txt: what a person reads first about a finished run."""
    trainable, total = count_parameters(run.model)
    b = run.backbone_info
    best = "n/a (no validation data)" if run.best_val_loss is None else \
        f"{run.best_val_loss:.4f} at step {run.best_step}"
    lines = [
        f"homeclip training run: {run.out}",
        f"encoder:          {run.cfg.encoder}",
        f"backbone:         requested {b.get('requested')}, used {b.get('used')}"
        + (f" (fallback: {b['fallback_reason']})" if b.get("fallback_reason") else ""),
        f"text encoder:     requested {run.cfg.text_model_name}, used {run.text_encoder.model_used}"
        + (f" (fallback: {run.text_encoder.fallback_reason})" if run.text_encoder.fallback_reason else ""),
        f"parameters:       {trainable:,} trainable / {total:,} total (frozen backbone not counted)",
        f"data:             {len(run.train_set)} train windows, "
        f"{0 if run.val_set is None else len(run.val_set)} val windows, "
        f"{len(run.captions.texts)} distinct captions; skipped {run.skipped}",
        f"homes:            train {windows_per_home(run.train_set)}, val {windows_per_home(run.val_set)}; "
        f"event fields {run.cfg.event_fields}",
        f"steps:            {run.step} ({run.steps_per_epoch} per epoch x {run.cfg.max_epochs} epochs, "
        f"batch {run.cfg.batch_size} x {run.dist.world_size} process(es)), feature cache "
        f"{'on' if run.use_cache else 'off'}",
        f"final train loss: {fmt_loss(run.last_loss)} (mean over the last {run.cfg.log_interval} steps at most)",
        f"best val loss:    {best}"
        + (" -- VALIDATION FILE IS THE TEST SPLIT: model selection saw the test data" if run.validation_is_test
           else ""),
        f"temperature:      {run.model.temperature:.4f}",
        f"device:           {run.device}; setup {run.setup_seconds:.1f} s, total {seconds:.1f} s",
        "outputs:          best_model.pt, final_model.pt, checkpoint_step_<N>.pt, hyperparameters.json, "
        "metrics.jsonl, tb/",
    ]
    atomic_write_text(run.out / "run_summary.txt", "\n".join(lines) + "\n")
