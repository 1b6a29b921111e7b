"""Supervised fine-tuning (`objective: "supervised"`): a classification head on a trained encoder.

One linear head per label level (L1 and L2) reads the encoder's unit window embedding; it is trained with
class-weighted ("balanced") cross-entropy on the labelled train windows, and the epoch with the best mean
validation macro-F1 over both levels is kept (the last epoch when there is no validation data). With
`freeze_encoder` (the default) only the head learns, on embeddings computed once; otherwise the encoder learns
too: the Transformer end to end, the Chronos encoder its MLP head (its backbone is never trained).

The outputs are every run's: best_model.pt and final_model.pt hold the base checkpoint's dict (config, vocab,
encoder, text projection, temperature, with the encoder weights as trained here) plus a `classifier` entry,
so `load_model` rebuilds the head and `homeclip evaluate` scores it as the `supervised` method next to the
others; hyperparameters.json, run_summary.txt, metrics.jsonl (val_macro_f1_l1 / _l2 each epoch) and tb/.
There are no step checkpoints: a run is short and an interrupted one starts again.
"""
from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.windows import WindowSet
from ..errors import UserError
from ..io import atomic_write_json, atomic_write_text, file_sha256
from .checkpoint import TrainedModel, load_checkpoint, model_from_checkpoint, save_checkpoint
from .config import TrainConfig
from .distributed import DistInfo
from .model import batch_inputs, count_parameters
from .metrics_log import MetricLogger
from .environment import library_versions, resolve_device, seed_everything
from .schedule import epoch_batches, lr_factor, parameter_groups
from .trainer import RunResult, TrainData, load_training_data

log = logging.getLogger(__name__)
LEVELS = ("l1", "l2")


class LabelHead(nn.Module):
    """One linear layer per label level over unit window embeddings (multiplied by sqrt(dim), so that each
    coordinate is of order one and the logits start on a useful scale)."""

    def __init__(self, dim: int, classes: dict[str, list[str]]):
        super().__init__()
        self.dim = int(dim)
        self.classes = {lv: [str(c) for c in names] for lv, names in classes.items()}
        self.heads = nn.ModuleDict({lv: nn.Linear(self.dim, len(names)) for lv, names in self.classes.items()})
        self.selected: dict = {}

    def forward(self, emb: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per level [B, classes of that level]."""
        return {lv: head(emb * math.sqrt(self.dim)) for lv, head in self.heads.items()}

    def predict(self, emb: np.ndarray, level: str) -> np.ndarray:
        """The predicted label of each unit embedding row at one level."""
        weight = self.heads[level].weight
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(emb, dtype=np.float32), device=weight.device)
            index = self.heads[level](x * math.sqrt(self.dim)).argmax(1).cpu().numpy()
        return np.asarray(self.classes[level], dtype=object)[index]

    def to_entry(self) -> dict:
        """The checkpoint's `classifier` entry (plain values and tensors)."""
        return {"kind": "linear", "input": "unit window embedding x sqrt(dim)", "dim": self.dim,
                "classes": self.classes, "state": {k: v.detach().cpu() for k, v in self.state_dict().items()},
                "selected": dict(self.selected)}

    @classmethod
    def from_entry(cls, entry: dict) -> "LabelHead":
        """Rebuild a head from a checkpoint's `classifier` entry."""
        head = cls(int(entry["dim"]), {lv: list(c) for lv, c in entry["classes"].items()})
        head.load_state_dict(entry["state"])
        head.selected = dict(entry.get("selected") or {})
        return head.eval()


def labels(windows: WindowSet, level: str) -> np.ndarray:
    """The L1 or L2 label of every window, as strings."""
    return np.asarray([str(x) for x in (windows.label_l1 if level == "l1" else windows.label_l2)], dtype=object)


def balanced_weights(y: np.ndarray, classes: list[str]) -> np.ndarray:
    """n / (K x count) per class, scikit-learn's "balanced": every class weighs the same in total."""
    counts = np.array([(y == c).sum() for c in classes], dtype=np.float64)
    return len(y) / (len(classes) * np.maximum(counts, 1.0))


def _row_inputs(model: nn.Module, windows: WindowSet, vocab, cfg: TrainConfig, device: str,
                progress: bool) -> Callable[[np.ndarray], dict]:
    """Encoder inputs of windows by row index: the cached frozen-backbone features (Chronos), or batches of the
    one WindowDataset (Transformer)."""
    from ..data.batches import WindowDataset

    dataset = WindowDataset(windows, vocab)
    encoder = model.sensor_encoder
    if cfg.feature_cache and getattr(encoder, "uses_frozen_features", False):
        from ..encoders.cache import cached_features

        feats = torch.from_numpy(np.array(cached_features(encoder, dataset, cfg.feature_cache_dir,
                                                          batch_size=cfg.eval_batch_size, progress=progress),
                                          dtype=np.float32)).to(device)
        return lambda idx: {"features": feats[torch.from_numpy(idx).to(device)]}
    return lambda idx: batch_inputs(dataset.get_batch(idx), device)


class _Run:
    """One fine-tuning run: the base model, the head, the data as tensors, and the outputs."""

    def __init__(self, cfg: TrainConfig, data: TrainData, progress: bool):
        self.cfg, self.progress = cfg, progress
        self.device = resolve_device(cfg.device, DistInfo())
        self.out = Path(cfg.output_dir)
        self.base_path = Path(cfg.init_checkpoint)
        self.base = load_checkpoint(self.base_path, "cpu")
        self.model, self.vocab = model_from_checkpoint(self.base, self.device)
        if data.vocab is not None and data.vocab.tokens != self.vocab.tokens:
            log.warning("the vocabulary file differs from the checkpoint's; the checkpoint's vocabulary is used")
        self.train_set, self.val_set = data.train, (data.val if data.val is not None and len(data.val) else None)
        self.files = data.files
        self.y = {lv: labels(self.train_set, lv) for lv in LEVELS}
        classes = {lv: sorted(set(self.y[lv])) for lv in LEVELS}
        self.head = LabelHead(self.model.text_projection.out_features, classes).to(self.device)
        self.targets = {lv: torch.as_tensor([classes[lv].index(v) for v in self.y[lv]], device=self.device)
                        for lv in LEVELS}
        self.weights = {lv: balanced_weights(self.y[lv], classes[lv]) for lv in LEVELS}
        self.model.requires_grad_(False)   # the text side and temperature stay as trained, always
        if cfg.freeze_encoder:
            self.train_emb = torch.as_tensor(self.embed(self.train_set), device=self.device)
        else:
            self.model.sensor_encoder.requires_grad_(True)
            self.inputs = _row_inputs(self.model, self.train_set, self.vocab, cfg, self.device, progress)
        # Validation embeddings of a frozen encoder never change: computed once.
        self.val_emb = self.embed(self.val_set) if self.val_set is not None and cfg.freeze_encoder else None

    def embed(self, windows: WindowSet) -> np.ndarray:
        """Unit embeddings of windows with the encoder as it is now (eval mode, frozen features cached)."""
        self.model.eval()
        trained = TrainedModel(model=self.model, config=self.base["config"], vocab=self.vocab, meta={},
                               device=self.device)
        cache = self.cfg.feature_cache_dir if self.cfg.feature_cache else None
        return trained.embed_windows(windows, batch_size=self.cfg.eval_batch_size, cache_dir=cache,
                                     progress=self.progress)

    def validate(self) -> dict | None:
        """Validation macro-F1 per level (and their mean, the selection criterion) and the weighted loss."""
        from ..evaluation.metrics import classification_metrics

        if self.val_set is None:
            return None
        emb = self.val_emb if self.val_emb is not None else self.embed(self.val_set)
        out = {}
        losses = []
        for lv in LEVELS:
            truth = labels(self.val_set, lv)
            out[f"val_macro_f1_{lv}"] = classification_metrics(truth, self.head.predict(emb, lv))["macro_f1"]
            known = np.flatnonzero(np.isin(truth, self.head.classes[lv]))   # a class unseen in train has no logit
            if len(known):
                with torch.no_grad():
                    logits = self.head(torch.as_tensor(emb[known], device=self.device))[lv]
                    target = torch.as_tensor([self.head.classes[lv].index(v) for v in truth[known]],
                                             device=self.device)
                    losses.append(float(F.cross_entropy(logits, target, weight=self._weight(lv))))
        out["val_macro_f1"] = float(np.mean([out[f"val_macro_f1_{lv}"] for lv in LEVELS]))
        if losses:   # (none when no validation window has a class seen in training)
            out["val_loss"] = float(np.mean(losses))
        return out

    def _weight(self, lv: str) -> torch.Tensor:
        return torch.as_tensor(self.weights[lv], dtype=torch.float32, device=self.device)

    def step_loss(self, idx: np.ndarray) -> torch.Tensor:
        """Class-weighted cross-entropy of a batch, averaged over the levels."""
        if self.cfg.freeze_encoder:
            emb = self.train_emb[torch.from_numpy(idx).to(self.device)]
        else:
            self.model.sensor_encoder.train()
            emb = self.model.encode_sensor(self.inputs(idx))
        logits = self.head(emb)
        index = torch.from_numpy(idx).to(self.device)
        return sum(F.cross_entropy(logits[lv], self.targets[lv][index], weight=self._weight(lv))
                   for lv in LEVELS) / len(LEVELS)

    def payload(self, step: int, epoch: int) -> dict:
        """The base checkpoint's dict with this run's encoder weights, step and the classifier entry."""
        payload = {k: v for k, v in self.base.items() if k not in ("format", "train_state", "classifier")}
        payload["model"] = {k: v.detach().cpu() if torch.is_tensor(v) else v
                            for k, v in self.model.state_dict().items()}
        payload["step"], payload["epoch"] = step, epoch
        payload["meta"] = {**self.base.get("meta", {}), "supervised": self.facts()}
        payload["classifier"] = {**self.head.to_entry(), "config": self.cfg.to_dict(),
                                 "class_weights": {lv: self.weights[lv].tolist() for lv in LEVELS},
                                 "base_checkpoint": self.facts()["base_checkpoint"]}
        return payload

    def facts(self) -> dict:
        """What the run was trained on (recorded in the checkpoint meta and hyperparameters.json)."""
        return {"base_checkpoint": {"path": str(self.base_path), "sha256": file_sha256(self.base_path)[:16]},
                "data_files": self.files, "freeze_encoder": self.cfg.freeze_encoder,
                "windows": {"train": len(self.train_set), "val": 0 if self.val_set is None else len(self.val_set)},
                "train_counts": {lv: {c: int((self.y[lv] == c).sum()) for c in self.head.classes[lv]}
                                 for lv in LEVELS}}


def train_supervised(cfg: TrainConfig, *, data: TrainData | None = None, progress: bool = True) -> RunResult:
    """Fine-tune a classification head on `cfg.init_checkpoint`'s encoder; writes the run's outputs."""
    t0 = time.time()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError("supervised fine-tuning runs in one process: start it without torchrun")
    seed_everything(cfg.seed)
    run = _Run(cfg, data if data is not None else load_training_data(cfg), progress)
    n = len(run.train_set)
    steps_per_epoch = len(epoch_batches(n, cfg.batch_size, 0, cfg.seed, DistInfo()))
    total = steps_per_epoch * cfg.max_epochs
    warmup = int(round(cfg.warmup_ratio * total))
    params = nn.ModuleList([run.head, run.model])
    optimizer = torch.optim.AdamW(parameter_groups(params, cfg.weight_decay), lr=cfg.learning_rate,
                                  betas=tuple(cfg.betas))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, warmup, total))
    trainable = [p for p in params.parameters() if p.requires_grad]
    (run.out / "metrics.jsonl").unlink(missing_ok=True)   # a fresh run's metrics only
    logger = MetricLogger(run.out, cfg, resume_step=0, enabled=True)
    step, best, loss = 0, None, None
    try:
        for epoch in range(cfg.max_epochs):
            for idx in epoch_batches(n, cfg.batch_size, epoch, cfg.seed, DistInfo()):
                loss = run.step_loss(idx)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip_norm > 0:
                    torch.nn.utils.clip_grad_norm_(trainable, cfg.grad_clip_norm)
                optimizer.step()
                scheduler.step()
                step += 1
                if step % cfg.log_interval == 0 or step == total:
                    logger.write({"step": step, "epoch": round(step / steps_per_epoch, 4), "loss": float(loss.detach()),
                                  "lr": scheduler.get_last_lr()[0]})
            val = run.validate()
            if val is not None:
                logger.write({"step": step, "epoch": epoch + 1, **val})
                if best is None or val["val_macro_f1"] > best["val_macro_f1"]:
                    best = {**val, "epoch": epoch + 1, "step": step}
                    run.head.selected = {**best, "criterion": "mean validation macro-F1 over L1 and L2"}
                    save_checkpoint(run.out / "best_model.pt", run.payload(step, epoch + 1))
    finally:
        logger.close()
    last = {"epoch": cfg.max_epochs, "step": step,
            "criterion": "last epoch" + (" (no validation data)" if best is None else "")}
    run.head.selected = last
    final = run.payload(step, cfg.max_epochs)
    save_checkpoint(run.out / "final_model.pt", final)
    if best is None:
        save_checkpoint(run.out / "best_model.pt", final)
    else:
        run.head.selected = {**best, "criterion": "mean validation macro-F1 over L1 and L2"}
    seconds = time.time() - t0
    final_loss = None if loss is None else float(loss.detach())
    _write_records(run, cfg, best, step, seconds, final_loss)
    return RunResult(run.out, step, None if best is None else best.get("val_loss"),
                     None if best is None else best["step"], final_loss, seconds)


def _write_records(run: _Run, cfg: TrainConfig, best: dict | None, steps: int, seconds: float,
                   final_loss: float | None) -> None:
    trainable, total = count_parameters(nn.ModuleList([run.head, run.model]))
    atomic_write_json(run.out / "hyperparameters.json", {
        "config": cfg.to_dict(), "objective": "supervised", "versions": library_versions(), "device": run.device,
        "classes": run.head.classes, "class_weights": {lv: run.weights[lv].tolist() for lv in LEVELS},
        "parameters": {"trainable": trainable, "total": total}, "selected": run.head.selected, **run.facts()})
    chosen = "last epoch (no validation data)" if best is None else \
        f"epoch {best['epoch']}: validation macro-F1 L1 {best['val_macro_f1_l1']:.3f}, L2 {best['val_macro_f1_l2']:.3f}"
    lines = [f"homeclip supervised fine-tuning: {run.out}",
             f"base checkpoint:  {run.base_path} ({run.base['encoder']['kind']} encoder)",
             f"trained:          {'the head only (encoder frozen)' if cfg.freeze_encoder else 'head and encoder'}; "
             f"{trainable:,} trainable parameters",
             f"classes:          L1 {len(run.head.classes['l1'])}, L2 {len(run.head.classes['l2'])} "
             "(class-weighted cross-entropy)",
             f"data:             {len(run.train_set)} train windows, "
             f"{0 if run.val_set is None else len(run.val_set)} val windows",
             f"steps:            {steps} ({cfg.max_epochs} epochs, batch {cfg.batch_size})",
             f"final train loss: {'n/a' if final_loss is None else f'{final_loss:.4f}'}",
             f"selected:         {chosen}",
             f"device:           {run.device}; total {seconds:.1f} s",
             "outputs:          best_model.pt, final_model.pt, hyperparameters.json, metrics.jsonl, tb/"]
    atomic_write_text(run.out / "run_summary.txt", "\n".join(lines) + "\n")
