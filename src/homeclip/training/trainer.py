"""The training loop: CLIP alignment of a sensor encoder with frozen caption embeddings.

One `Trainer` serves every encoder (Chronos on any backbone, statistics, the Transformer) and every setting:
one process or many (torchrun), CPU or CUDA, fresh or resumed. The order of work:

  1. data (`training.data`): train/val WindowSets of one or several datasets (homes) + vocabulary; windows
     without captions are skipped (counted)
  2. captions: the distinct caption texts are embedded ONCE by the frozen text encoder (cached on disk) and
     kept as one tensor; a step looks up one caption per window (drawn by `choose_captions`)
  3. a frozen backbone's features are computed once (`encoders.cache.cached_features`), so an epoch costs the
     head only; without the cache (or for the Transformer) batches come from the one WindowDataset
  4. steps: InfoNCE over the global batch (+ hard negatives, + masked-field loss), AdamW, warm-up + cosine
  5. outputs (main process only): metrics.jsonl, TensorBoard, wandb, checkpoints, best/final model, summary

Exact resume: the data order is a function of (seed, epoch), the caption draw a function of (seed, step,
window), and everything else that moves (weights, optimizer, scheduler, scaler, RNGs, hard-negative bank) is
in the checkpoint.
"""
from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..data.batches import WindowDataset, collate
from ..data.usage import record_use
from ..encoders.hub import error_summary
from ..errors import UserError
from ..paths import cache_dir
from . import distributed as dist_utils
from .checkpoint import check_resumable, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .config import TrainConfig
from .data import TrainData, build_captions, data_label, load_training_data, validation_is_test_split, with_captions
from .interval_means import IntervalMeans
from .environment import auto_device, resolve_device, seed_everything
from .metrics_log import MetricLogger, truncate_metrics
from .run_dir import RunLock, claim_output_dir
from .run_record import fmt_loss, run_facts, write_hyperparameters, write_summary
from .schedule import choose_captions, epoch_batches, lr_factor, parameter_groups
from .losses import (
    LOGIT_SCALE_MAX,
    HardNegativeBank,
    contrastive_loss,
    hard_negative_logits,
    positive_mask,
)
from .model import (
    batch_inputs,
    build_clip_model,
    build_sensor_encoder,
    encoder_info,
)

log = logging.getLogger(__name__)

VALIDATION_IS_TEST = ("VALIDATION FILE IS THE TEST SPLIT: model selection (best_model.pt) sees the test data, so "
                      "scores on that split are optimistic and every evaluation on it is flagged 'selected on the "
                      "test split'. Pass --val_data <home>_val.json to keep the test split unseen.")
VAL_STEP = 0   # the caption draw used for validation: fixed, so every validation sees the same pairs
# Config keys that may change between an interrupted run and its resume without breaking exactness.
RESUME_FREE_KEYS = {"output_dir", "device", "num_workers", "log_interval", "val_interval", "save_interval",
                    "use_wandb", "wandb_project", "wandb_name", "wandb_tags", "feature_cache_dir",
                    "text_cache_dir", "train_data_path", "val_data_path", "vocab_path", "eval_batch_size"}


# ----------------------------------------------------------------------------- the trainer
@dataclass
class RunResult:
    """What a finished run produced."""

    output_dir: Path
    steps: int
    best_val_loss: float | None
    best_step: int | None
    final_loss: float | None
    seconds: float


class Trainer:
    """Set up a run from a config and data, then `run()` it. Only rank 0 writes files."""

    def __init__(self, cfg: TrainConfig, data: TrainData, *, text_encoder=None, resume: str | Path | None = None,
                 overwrite: bool = False, progress: bool = True, on_step: Callable[[int], None] | None = None):
        self.cfg = cfg
        self.progress = progress
        self.on_step = on_step
        self.t_start = time.time()
        self.dist = dist_utils.init_distributed(auto_device(cfg.device))
        self.device = resolve_device(cfg.device, self.dist)
        self.out = Path(cfg.output_dir)
        self.skipped: dict[str, int] = {}
        self._stop_requested = False
        # Before any slow setup: the folder is ours (locked) and holds no other run's outputs, or we stop now.
        self.lock = self._claim_output_dir(resume is not None, overwrite)
        try:
            seed_everything(cfg.seed)
            self._setup_data(data)
            self._setup_text(text_encoder)
            self._setup_model()
            self._setup_features()
            self._setup_optimizer()
            self.step, self.best_val_loss, self.best_step, self.last_loss = 0, None, None, None
            self.interval = IntervalMeans()
            self.bank = HardNegativeBank(cfg.hard_negative_memory_size)
            if resume is not None:
                self._load_resume(Path(resume))
        except BaseException:
            self.close()
            raise
        self.setup_seconds = time.time() - self.t_start

    def _claim_output_dir(self, resume: bool, overwrite: bool) -> RunLock | None:
        """Rank 0 locks output_dir and checks it (run_dir.py); every rank stops together if that fails."""
        lock, problem = None, None
        if self.dist.is_main:
            try:
                lock = RunLock(self.out).acquire()
                claim_output_dir(self.out, resume=resume, overwrite=overwrite)
            except UserError as err:
                problem = str(err)
                if lock is not None:
                    lock.release()
        problem = dist_utils.broadcast_from_main(problem, self.dist)
        if problem:
            raise UserError(problem)
        return lock

    def close(self) -> None:
        """Release the run folder's lock (run() does this when it ends)."""
        if self.lock is not None:
            self.lock.release()

    # -- setup ------------------------------------------------------------------------------------------
    def _setup_data(self, data: TrainData) -> None:
        cfg = self.cfg
        self.vocab = data.vocab
        self.train_set, self.skipped["train_windows_without_captions"] = with_captions(
            data.train, cfg.caption_types, cfg.max_captions)
        if len(self.train_set) < 2:
            raise UserError(f"only {len(self.train_set)} training windows have '{cfg.caption_types}' captions; "
                            "contrastive training needs at least 2", path=data_label(cfg, "train_data_path"))
        self.train_content_hash = self.train_set.content_hash()   # recorded in every checkpoint: hash once
        self.val_set = None
        if data.val is not None:
            self.val_set, self.skipped["val_windows_without_captions"] = with_captions(
                data.val, cfg.caption_types, cfg.max_captions)
            if len(self.val_set) == 0:
                self.val_set = None
        longest = int(self.train_set.mask.sum(1).max())
        if longest > cfg.sequence_length:
            raise UserError(f"'sequence_length' is {cfg.sequence_length} but training windows hold up to "
                            f"{longest} events", path=data_label(cfg, "train_data_path"))
        self.files = data.files
        self.validation_is_test = validation_is_test_split(data.val)
        if self.validation_is_test and self.dist.is_main:
            log.warning(VALIDATION_IS_TEST)
        sets = [self.train_set] + ([self.val_set] if self.val_set is not None else [])
        self.captions = build_captions(sets, cfg.caption_types, cfg.max_captions)
        self.train_ds = WindowDataset(self.train_set, self.vocab, caption_types=cfg.caption_types,
                                      max_captions=cfg.max_captions)
        self.val_ds = None if self.val_set is None else WindowDataset(
            self.val_set, self.vocab, caption_types=cfg.caption_types, max_captions=cfg.max_captions)
        for name, n in self.skipped.items():
            if n:
                log.warning("skipped %d %s", n, name.replace("_", " "))

    def _main_first(self, work: Callable[[], object]) -> object:
        """Run `work` on rank 0 first (it fills a disk cache), then on the others (they read the cache)."""
        result = work() if self.dist.is_main else None
        dist_utils.barrier(self.dist)
        if not self.dist.is_main:
            result = work()
        return result

    def _setup_text(self, text_encoder) -> None:
        cfg = self.cfg
        if text_encoder is None:
            from ..encoders.text import TextEncoder

            text_encoder = TextEncoder(cfg.text_model_name, allow_fallback=cfg.allow_fallback,
                                       cache_dir=cache_dir("text", cfg.text_cache_dir), device=self.device,
                                       backend=cfg.text_backend)
        self.text_encoder = text_encoder   # a fallback was announced once, by the encoder itself
        show = self.progress and self.dist.is_main
        emb = self._main_first(lambda: text_encoder.encode(self.captions.texts, progress=show))
        self.caption_emb = torch.as_tensor(np.asarray(emb, dtype=np.float32)).to(self.device)
        self.text_dim = int(self.caption_emb.shape[1])

    def _setup_model(self) -> None:
        cfg = self.cfg
        encoder = build_sensor_encoder(cfg, self.vocab, self.device)
        self.model = build_clip_model(encoder, self.text_dim, cfg.to_dict()).to(self.device)
        self.loss_fn = contrastive_loss(cfg.loss, cfg.focal_gamma)
        self.backbone_info = encoder_info(encoder)   # a fallback was announced once, by load_backbone
        self.with_mlm = cfg.mlm_weight > 0 and hasattr(encoder, "mlm_loss")
        if cfg.mlm_weight > 0 and not self.with_mlm:
            log.warning("mlm_weight=%s ignored: the %s encoder has no masked-field loss", cfg.mlm_weight, cfg.encoder)
        if self.dist.enabled:
            seed_everything(cfg.seed + self.dist.rank)   # different dropout per rank; weights come from rank 0
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
            unused = hasattr(encoder, "mlm_loss") and not self.with_mlm   # the MLM heads get no gradient
            self.ddp_model = DDP(self.model, device_ids=ids, find_unused_parameters=unused)
        else:
            self.ddp_model = self.model
        self.amp = cfg.use_amp and self.device.startswith("cuda")
        if cfg.use_amp and not self.amp:
            log.info("use_amp: automatic mixed precision runs on CUDA only; on %s it is a no-op", self.device)
        self.amp_dtype = getattr(torch, cfg.amp_dtype)
        # Always a real GradScaler object (disabled unless float16 on CUDA): never None.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp and cfg.amp_dtype == "float16")

    def _setup_features(self) -> None:
        """Frozen backbone + cache on: compute the features once; the training step then runs the head only."""
        cfg = self.cfg
        encoder = self.model.sensor_encoder
        self.train_features = self.val_features = None
        self.use_cache = cfg.feature_cache and getattr(encoder, "uses_frozen_features", False)
        if not self.use_cache:
            return
        from ..encoders.cache import cached_features

        show = self.progress and self.dist.is_main
        folder = cache_dir("features", cfg.feature_cache_dir)

        def features(ds: WindowDataset) -> torch.Tensor:
            arr = self._main_first(lambda: cached_features(encoder, ds, folder, batch_size=cfg.eval_batch_size,
                                                           progress=show))
            return torch.from_numpy(np.array(arr, dtype=np.float32)).to(self.device)   # copy: the cache is read-only

        self.train_features = features(self.train_ds)
        if self.val_ds is not None:
            self.val_features = features(self.val_ds)

    def _setup_optimizer(self) -> None:
        cfg = self.cfg
        self.steps_per_epoch = len(epoch_batches(len(self.train_set), cfg.batch_size, 0, cfg.seed, self.dist))
        self.total_steps = self.steps_per_epoch * cfg.max_epochs
        self.warmup_steps = int(round(cfg.warmup_ratio * self.total_steps))
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        groups = parameter_groups(self.model, cfg.weight_decay)
        try:   # the fused kernel is several times faster than foreach on CPU and CUDA (float32)
            self.optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=tuple(cfg.betas), fused=True)
        except (RuntimeError, ValueError):
            self.optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=tuple(cfg.betas), foreach=True)
        warmup, total = self.warmup_steps, self.total_steps
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, warmup, total))

    def _load_resume(self, path: Path) -> None:
        ckpt = load_checkpoint(path, "cpu", complete=True)
        state = ckpt.get("train_state")
        if state is None:
            raise UserError("this checkpoint holds no training state (use a checkpoint_step_<N>.pt)", path=str(path))
        check_resumable(ckpt, self.model.state_dict(), self.total_steps, path)
        changed = sorted(k for k, v in ckpt["config"].items()
                         if k not in RESUME_FREE_KEYS and self.cfg.to_dict().get(k) != v)
        if changed:
            log.warning("resuming with changed config keys %s: the run will not match an uninterrupted one",
                        changed)
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
            self.bank.load_state_dict(state["bank"])
            rngs = state["rng"]
            set_rng_state(rngs[min(self.dist.rank, len(rngs) - 1)])
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as err:
            raise UserError(f"cannot resume from this checkpoint: it does not fit this run "
                            f"({error_summary(err, 160)})", path=str(path)) from None
        self.step = int(ckpt["step"])
        self.best_val_loss, self.best_step = state["best_val_loss"], state["best_step"]
        self.last_loss = state.get("last_loss")
        self.interval.load_state_dict(state.get("log_interval_sums") or {})
        if self.dist.is_main:
            truncate_metrics(self.out / "metrics.jsonl", self.step)
        log.info("resumed from %s at step %d", path, self.step)

    # -- batches ----------------------------------------------------------------------------------------
    def _batches(self, batches: list[np.ndarray]) -> Iterator[tuple[torch.Tensor, dict]]:
        """(window indices, encoder inputs) per batch: cached features by indexing, or the WindowDataset."""
        if self.use_cache:
            for idx in batches:
                index = torch.from_numpy(idx)
                yield index, {"features": self.train_features[index.to(self.device)]}
            return
        workers = self.cfg.num_workers
        # CUDA cannot be used in forked workers: spawn them when the run is on a GPU.
        context = "spawn" if workers > 0 and self.device.startswith("cuda") else None
        loader = DataLoader(self.train_ds, batch_sampler=batches, collate_fn=collate, num_workers=workers,
                            multiprocessing_context=context, pin_memory=self.device.startswith("cuda"))
        for batch in loader:
            yield batch["index"], batch_inputs(batch, self.device)

    def _autocast(self):
        return torch.autocast("cuda", dtype=self.amp_dtype) if self.amp else contextlib.nullcontext()

    # -- one step ---------------------------------------------------------------------------------------
    def _train_step(self, index: torch.Tensor, inputs: dict) -> dict:
        cfg = self.cfg
        captions = choose_captions(self.captions.ids[0], self.captions.counts[0], index, cfg.seed, self.step)
        captions = captions.to(self.device)
        text_in = self.caption_emb[captions]
        bank_captions, bank_windows = self.bank.entries()
        use_bank = cfg.use_hard_negatives and len(bank_captions) > 0
        if use_bank:
            text_in = torch.cat([text_in, self.caption_emb[bank_captions.to(self.device)]])
        with self._autocast():
            out = self.ddp_model(inputs, text_in, self.with_mlm)
        sensor, text = out["sensor"].float(), out["text"].float()
        n_local = len(index)
        g_sensor = dist_utils.gather_with_grad(sensor, self.dist)
        g_text = dist_utils.gather_with_grad(text[:n_local], self.dist)
        g_captions = dist_utils.gather_no_grad(captions, self.dist)
        g_windows = dist_utils.gather_no_grad(index.to(self.device), self.dist)
        extra = None
        if use_bank:
            positives = positive_mask(g_captions, g_windows, bank_captions.to(self.device),
                                      bank_windows.to(self.device))
            draw = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.step)
            extra = hard_negative_logits(g_sensor, text[n_local:], out["logit_scale"], positives,
                                         cfg.total_hard_negatives_per_window, cfg.hard_negative_strategy, draw)
        res = self.loss_fn(g_sensor, g_text, out["logit_scale"], out["logit_bias"], caption_ids=g_captions,
                           extra_logits=extra)
        loss = res.loss
        if self.with_mlm:
            loss = loss + cfg.mlm_weight * out["mlm_loss"]
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if cfg.grad_clip_norm > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.trainable, cfg.grad_clip_norm, foreach=True)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        with torch.no_grad():
            self.model.logit_scale.clamp_(0.0, LOGIT_SCALE_MAX)
        if cfg.use_hard_negatives:
            self.bank.push(g_captions, g_windows)
        return {"loss": loss, "clip": res, "mlm_loss": out.get("mlm_loss")}

    # -- validation -------------------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> dict | None:
        """Mean InfoNCE (and accuracies) over the validation set in fixed batches of the global batch size."""
        if self.val_set is None:
            return None
        self.model.eval()
        n, size = len(self.val_set), self.cfg.batch_size * self.dist.world_size
        ids, counts = self.captions.ids[1], self.captions.counts[1]
        totals = np.zeros(3)
        weight = 0
        for start in range(0, n, size):
            index = torch.arange(start, min(start + size, n))
            if len(index) < 2 and weight:
                break   # a last batch of one window has no negatives; its loss means nothing
            if self.use_cache:
                inputs = {"features": self.val_features[index.to(self.device)]}
            else:
                inputs = batch_inputs(self.val_ds.get_batch(index.numpy()), self.device)
            captions = choose_captions(ids, counts, index, self.cfg.seed, VAL_STEP).to(self.device)
            with self._autocast():
                sensor = self.model.encode_sensor(inputs).float()
                text = self.model.encode_text(self.caption_emb[captions]).float()
            res = self.loss_fn(sensor, text, self.model.logit_scale, self.model.logit_bias, caption_ids=captions)
            totals += len(index) * np.array([float(res.loss), float(res.acc_s2t), float(res.acc_t2s)])
            weight += len(index)
        self.model.train()
        val_loss, acc_s2t, acc_t2s = totals / max(weight, 1)
        return {"val_loss": val_loss, "val_acc_s2t": acc_s2t, "val_acc_t2s": acc_t2s}

    # -- outputs ----------------------------------------------------------------------------------------
    def _payload(self, resumable: bool) -> dict:
        encoder = self.model.sensor_encoder
        payload = {
            "config": self.cfg.to_dict(),
            "vocab": {k: list(v) for k, v in self.vocab.tokens.items()},
            "encoder": {"kind": self.cfg.encoder, "config": encoder.get_config()},
            "backbone_info": self.backbone_info,
            "text_encoder": self.text_encoder.info(),
            "text_dim": self.text_dim,
            "model": {k: v.detach().cpu() if torch.is_tensor(v) else v for k, v in self.model.state_dict().items()},
            "temperature": self.model.temperature,
            "step": self.step,
            "epoch": self.step / self.steps_per_epoch,
            "meta": run_facts(self),
        }
        if resumable:
            rngs = [rng_state()]
            if self.dist.enabled:   # every rank's RNG (dropout differs per rank)
                rngs = [None] * self.dist.world_size
                torch.distributed.all_gather_object(rngs, rng_state())
            payload["train_state"] = {
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(), "bank": self.bank.state_dict(), "rng": rngs,
                "best_val_loss": self.best_val_loss, "best_step": self.best_step, "last_loss": self.last_loss,
                "log_interval_sums": self.interval.state_dict(),
            }
        return payload

    def save(self, name: str, *, resumable: bool) -> Path | None:
        """Write a checkpoint into output_dir (main process; every rank must call it when resumable)."""
        payload = self._payload(resumable)   # collective under DDP: all ranks take part
        if not self.dist.is_main:
            return None
        return save_checkpoint(self.out / name, payload)

    # -- the loop ---------------------------------------------------------------------------------------
    def _request_stop(self, signum, frame) -> None:
        self._stop_requested = True
        log.warning("interrupt received: saving a checkpoint after this step (Ctrl-C again to abort now)")
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def _log(self, logger: "MetricLogger", epoch: float) -> None:
        """One metrics line: the means of the training scalars over the steps since the previous line."""
        means = self.interval.pop()
        self.last_loss = means["loss"]
        if not math.isfinite(self.last_loss):
            raise UserError(f"the loss became {self.last_loss} by step {self.step}; lower 'learning_rate' or "
                            "check the data")
        entry = {"step": self.step, "epoch": round(epoch, 4), **means, "temperature": self.model.temperature,
                 "lr": self.scheduler.get_last_lr()[0]}
        logger.write(entry)

    def _validate_and_keep_best(self, logger: "MetricLogger") -> None:
        if not self.dist.is_main:
            return
        val = self.validate()
        if val is None:
            return
        logger.write({"step": self.step, "epoch": round(self.step / self.steps_per_epoch, 4), **val})
        if self.best_val_loss is None or val["val_loss"] < self.best_val_loss:
            self.best_val_loss, self.best_step = float(val["val_loss"]), self.step
            self.save("best_model.pt", resumable=False)

    def run(self) -> RunResult:
        """Train to the end (or to Ctrl-C, after saving a checkpoint) and write every output."""
        cfg = self.cfg
        logger = MetricLogger(self.out, cfg, resume_step=self.step, enabled=self.dist.is_main)
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, self._request_stop) if in_main_thread else None
        validated_at = None
        try:
            if self.dist.is_main:
                write_hyperparameters(self)
                record_use(self.files, self.out)   # so that `prepare` warns before replacing these files
            from tqdm.auto import tqdm

            show_bar = self.progress and self.dist.is_main
            bar = tqdm(total=self.total_steps, initial=self.step, unit="step", desc="train", disable=not show_bar,
                       mininterval=1.0)
            self.model.train()
            while self.step < self.total_steps:
                epoch, done = divmod(self.step, self.steps_per_epoch)
                batches = epoch_batches(len(self.train_set), cfg.batch_size, epoch, cfg.seed, self.dist)[done:]
                for index, inputs in self._batches(batches):
                    result = self._train_step(index, inputs)
                    self.interval.add({"loss": result["loss"], "clip_loss": result["clip"].loss,
                                       "acc_s2t": result["clip"].acc_s2t, "acc_t2s": result["clip"].acc_t2s,
                                       "mlm_loss": result["mlm_loss"]})
                    self.step += 1
                    bar.update(1)
                    if self.step % cfg.log_interval == 0 or self.step == self.total_steps:
                        self._log(logger, self.step / self.steps_per_epoch)
                        bar.set_postfix(loss=f"{self.last_loss:.4f}", temp=f"{self.model.temperature:.3f}")
                    if self.step % cfg.val_interval == 0:
                        self._validate_and_keep_best(logger)
                        validated_at = self.step
                    if self.step % cfg.save_interval == 0:
                        self.save(f"checkpoint_step_{self.step}.pt", resumable=True)
                    if self.on_step is not None:
                        self.on_step(self.step)
                    if dist_utils.any_rank(self._stop_requested, self.dist, self.device):
                        self.save(f"checkpoint_step_{self.step}.pt", resumable=True)
                        if self.dist.is_main:
                            log.warning("saved %s; continue with --resume auto",
                                        self.out / f"checkpoint_step_{self.step}.pt")
                        raise KeyboardInterrupt
                if not show_bar and self.dist.is_main:   # logs get one plain line per epoch instead of a bar
                    log.info("epoch %d/%d done (step %d/%d): train loss %s, best val loss %s", epoch + 1,
                             cfg.max_epochs, self.step, self.total_steps, fmt_loss(self.last_loss),
                             fmt_loss(self.best_val_loss))
            bar.close()
            if validated_at != self.step:
                self._validate_and_keep_best(logger)
            if self.dist.is_main:
                self.save("final_model.pt", resumable=False)
                if self.best_val_loss is None:   # no validation data: the final model is the best we know
                    self.save("best_model.pt", resumable=False)
                seconds = time.time() - self.t_start
                write_summary(self, seconds)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
            logger.close()
            self.close()
        dist_utils.barrier(self.dist)
        return RunResult(self.out, self.step, self.best_val_loss, self.best_step, self.last_loss,
                         time.time() - self.t_start)


def train(cfg: TrainConfig, *, data: TrainData | None = None, text_encoder=None, resume: str | Path | None = None,
          overwrite: bool = False, progress: bool = True, on_step: Callable[[int], None] | None = None) -> RunResult:
    """Run one training job end to end (loads the data the config names unless `data` is given).

    A fresh run into an output_dir that holds another run's outputs refuses unless `overwrite` (see run_dir.py)."""
    from .checkpoint import resolve_resume

    if cfg.objective == "supervised":   # a classification head on a trained encoder: its own loop
        from .supervised import train_supervised
        return train_supervised(cfg, data=data, progress=progress)
    resume_path = resolve_resume(str(resume) if resume is not None else None, cfg.output_dir)
    if data is None and resume_path is None and not overwrite:
        claim_output_dir(cfg.output_dir, resume=False, overwrite=False)   # refuse before reading the data
    trainer = Trainer(cfg, data if data is not None else load_training_data(cfg), text_encoder=text_encoder,
                      resume=resume_path, overwrite=overwrite, progress=progress, on_step=on_step)
    try:
        return trainer.run()
    finally:
        dist_utils.shutdown_distributed(trainer.dist)


def steps_per_epoch(cfg: TrainConfig, data: TrainData) -> int:
    """Optimizer steps in one single-process epoch of `data` (windows without captions are not trained on)."""
    n = len(with_captions(data.train, cfg.caption_types, cfg.max_captions)[0])
    return len(epoch_batches(n, cfg.batch_size, 0, cfg.seed, dist_utils.DistInfo()))
