"""What a training run logs, as it runs: metrics.jsonl (one JSON record per line), TensorBoard, and wandb when
asked for and installed. The trainer and the supervised head write through the same `MetricLogger`; a resumed
run first cuts metrics.jsonl back to its checkpoint (`truncate_metrics`)."""
from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

from ..io import atomic_write_text, with_path
from .config import TrainConfig

log = logging.getLogger("homeclip.training.trainer")


def metric_record(line: str) -> dict | None:
    """A metrics.jsonl line as a dict with an integer step, or None when it is torn or not a record."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("step"), int):
        return None
    return record


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines written after `step` by the interrupted run (they will be produced again), and any
    line it could not finish (a crash during a write tears the last line): counted in a warning."""
    if not path.is_file():
        return
    keep, torn = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        record = metric_record(line)
        if record is None:
            torn += 1
        elif record["step"] <= step:
            keep.append(line)
    if torn:
        log.warning("%s: dropped %d unreadable line(s) (a run stopped in the middle of writing)", path, torn)
    atomic_write_text(path, "".join(ln + "\n" for ln in keep))


class MetricLogger:
    """metrics.jsonl + TensorBoard (+ wandb when asked for and installed); inert on non-main ranks."""

    def __init__(self, out: Path, cfg: TrainConfig, *, resume_step: int, enabled: bool):
        self.enabled = enabled
        self.tb = self.wandb = None
        if not enabled:
            return
        out.mkdir(parents=True, exist_ok=True)
        self.jsonl = open(out / "metrics.jsonl", "a", encoding="utf-8")
        self.tb_dir = out / "tb"
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(self.tb_dir), purge_step=resume_step or None)
            if cfg.use_wandb:
                self.wandb = start_wandb(cfg, out)
        except BaseException as err:
            with contextlib.suppress(OSError):
                self.close()
            if isinstance(err, OSError):   # TensorBoard's first write fails in its thread, naming no file
                raise with_path(err, self.tb_dir) from err
            raise

    def write(self, entry: dict) -> None:
        """One metrics line, the same scalars to TensorBoard and wandb."""
        if not self.enabled:
            return
        try:
            self.jsonl.write(json.dumps(entry) + "\n")
            self.jsonl.flush()
        except OSError as err:   # a full disk fails in write(), naming no file: name it
            raise with_path(err, self.jsonl.name) from err
        try:
            for key, value in entry.items():
                if key not in ("step", "epoch"):
                    self.tb.add_scalar(f"{'val' if key.startswith('val_') else 'train'}/{key}", value,
                                       entry["step"])
        except OSError as err:   # re-raised from TensorBoard's writer thread
            raise with_path(err, self.tb_dir) from err
        if self.wandb is not None:
            self.wandb.log({k: v for k, v in entry.items() if k != "step"}, step=entry["step"])

    def close(self) -> None:
        """Flush and close every sink, each even when another fails (the first failure is raised after)."""
        if not self.enabled:
            return
        failure = None
        for close, path in ((self.jsonl.close, self.jsonl.name), (getattr(self.tb, "close", None), self.tb_dir),
                            (getattr(self.wandb, "finish", None), self.tb_dir.parent)):
            try:
                if close is not None:
                    close()
            except OSError as err:
                failure = failure or with_path(err, path)
        if failure is not None:
            raise failure


def _network_available(host: str = "api.wandb.ai", timeout: float = 2.0) -> bool:
    import socket

    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def start_wandb(cfg: TrainConfig, out: Path):
    """A wandb run (offline without network), or None with one log line when wandb is absent or fails."""
    try:
        import wandb
    except ImportError:
        log.info("use_wandb: wandb is not installed, skipping wandb logging (pip install wandb)")
        return None
    import os

    mode = os.environ.get("WANDB_MODE") or ("online" if _network_available() else "offline")
    try:
        return wandb.init(project=cfg.wandb_project, name=cfg.wandb_name or None, tags=list(cfg.wandb_tags),
                          config=cfg.to_dict(), dir=str(out), mode=mode)
    except Exception as err:  # noqa: BLE001 - logging must never stop training
        log.warning("use_wandb: wandb.init failed (%s), skipping wandb logging", err)
        return None
