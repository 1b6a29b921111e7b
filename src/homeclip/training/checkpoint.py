"""Checkpoints: atomic save, safe load (`torch.load(..., weights_only=True)`), and TrainedModel for inference.

A checkpoint is a plain dict of tensors and Python values (no pickled code):
  format, config (resolved TrainConfig dict), vocab (field -> tokens), encoder {kind, config},
  backbone_info, text_encoder (identity actually used), text_dim, model (ClipModel state_dict: trainable
  encoder weights, text projection, logit scale [, SigLIP's logit bias]), temperature, step, epoch, meta (data
  hashes, fallbacks), in supervised runs classifier (training/supervised.py), and in resumable checkpoints:
  train_state {optimizer, scheduler, scaler, rng, bank, step_in_epoch, best}.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..encoders.hub import error_summary
from ..errors import UserError
from ..io import atomic_path

FORMAT = "homeclip.checkpoint/1"
_STEP_FILE = re.compile(r"^checkpoint_step_(\d+)\.pt$")


# What every checkpoint holds (key -> type), checked on load so that a foreign dict fails with one sentence.
_REQUIRED = {"config": dict, "vocab": dict, "encoder": dict, "text_dim": int, "model": dict}


def save_checkpoint(path: str | Path, payload: dict) -> Path:
    """Write `payload` atomically with torch.save (a crash never leaves a half-written file)."""
    # Through a file object: torch.save to a path turns a full disk into an opaque RuntimeError.
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save({"format": FORMAT, **payload}, fh)
    return Path(path)


def load_checkpoint(path: str | Path, device: str = "cpu", *, complete: bool = False) -> dict:
    """Read a checkpoint with weights_only=True; a missing, empty, truncated or foreign file is a UserError.

    `complete`: also require what a model is rebuilt from (config, vocab, encoder, text_dim, model)."""
    import warnings

    path = Path(path)
    if not path.is_file():
        raise UserError("checkpoint not found", path=str(path))
    try:
        with warnings.catch_warnings():    # torch warns about pickle protocols of foreign files
            warnings.simplefilter("ignore")
            ckpt = torch.load(path, map_location=device, weights_only=True)
    except OSError:
        raise                               # permission denied, I/O error: the file-system sentence
    except Exception as err:  # noqa: BLE001 - any unpickling failure means "not a usable checkpoint"
        what = "an empty file" if path.stat().st_size == 0 else f"unreadable as one: {type(err).__name__}"
        raise UserError(f"not a homeclip checkpoint ({what})", path=str(path)) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise UserError(f"not a homeclip checkpoint (expected format {FORMAT})", path=str(path))
    if complete:
        _check_complete(ckpt, path)
    return ckpt


def _check_complete(ckpt: dict, path: Path) -> None:
    bad = [key for key, typ in _REQUIRED.items() if not isinstance(ckpt.get(key), typ)]
    encoder = ckpt.get("encoder") if isinstance(ckpt.get("encoder"), dict) else {}
    if not isinstance(encoder.get("kind"), str) or not isinstance(encoder.get("config"), dict):
        bad.append("encoder.kind/config")
    if bad:
        raise UserError(f"not a homeclip checkpoint (missing or malformed: {', '.join(bad)})", path=str(path))


def step_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    """The run's checkpoint_step_<N>.pt files as (N, path), in step order."""
    found = []
    for p in Path(output_dir).glob("checkpoint_step_*.pt"):
        m = _STEP_FILE.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def resolve_resume(resume: str | None, output_dir: str | Path) -> Path | None:
    """`--resume PATH|auto` -> the checkpoint to continue from (auto: the latest step in output_dir)."""
    if resume is None:
        return None
    if resume == "auto":
        found = step_checkpoints(output_dir)
        if not found:
            raise UserError("--resume auto: no checkpoint_step_<N>.pt to resume from", path=str(output_dir))
        return found[-1][1]
    return Path(resume)


def check_resumable(ckpt: dict, own: dict, total_steps: int, path: Path) -> None:
    """Refuse, before anything is loaded, a resumable checkpoint whose step lies outside a run's schedule
    (`total_steps`) or whose weights and training state do not fit the run's model (`own`, its state_dict)."""
    state = ckpt["train_state"]
    step = ckpt.get("step")
    problems = []
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= total_steps:
        problems.append(f"its step {step!r} is outside this run's schedule (0..{total_steps} steps)")
    missing = [k for k in ("optimizer", "scheduler", "scaler", "bank", "rng", "best_val_loss", "best_step")
               if k not in state]
    if missing or not isinstance(state.get("rng"), list) or not state.get("rng"):
        problems.append(f"its training state lacks {', '.join(missing) or 'the RNG states'}")
    saved = ckpt["model"]
    wrong = [k for k, v in own.items() if torch.is_tensor(v)
             and (not torch.is_tensor(saved.get(k)) or saved[k].shape != v.shape)]
    if wrong:
        k = wrong[0]
        found = tuple(saved[k].shape) if torch.is_tensor(saved.get(k)) else "nothing"
        problems.append(f"its weights do not match this model ({len(wrong)} tensor(s), e.g. {k}: expected "
                        f"{tuple(own[k].shape)}, found {found})")
    if problems:
        raise UserError("cannot resume from this checkpoint: " + "; ".join(problems), path=str(path))


def rng_state() -> dict:
    """torch / CUDA / numpy / python RNG states as tensors and plain values (weights_only-loadable)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore `rng_state()` output."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


@dataclass
class TrainedModel:
    """A trained ClipModel ready for inference, whatever its encoder (Chronos any backbone, statistics, Transformer)."""

    model: torch.nn.Module
    config: dict
    vocab: object
    meta: dict
    device: str = "cpu"
    text_cache_dir: str | Path | None = None    # None: the default location (paths.cache_dir), never the config's
    classifier: object = None          # supervised runs: the LabelHead (training/supervised.py), else None
    text_backend: str | None = None      # None: the training config's text_backend (auto for old checkpoints)
    _text_encoder: object = field(default=None, repr=False)

    @property
    def text_encoder(self):
        """The frozen text encoder the model was trained with (built on first use, identity checked)."""
        if self._text_encoder is None:
            from ..encoders.text import TextEncoder

            used = self.meta.get("text_encoder", {})
            # After a fallback in training, load the model that was actually used (no hub probe).
            name = used["used"] if used.get("fallback_reason") else self.config["text_model_name"]
            from ..paths import cache_dir

            enc = TextEncoder(name, allow_fallback=self.config.get("allow_fallback", True),
                              cache_dir=cache_dir("text", self.text_cache_dir), device=self.device,
                              backend=self.text_backend or self.config.get("text_backend", "auto"))
            self.set_text_encoder(enc)
            if used.get("used") and enc.model_used != used["used"]:
                raise UserError(f"this checkpoint was trained with text encoder '{used['used']}' but "
                                f"'{enc.model_used}' was loaded; make that model available")
        return self._text_encoder

    def set_text_encoder(self, encoder) -> None:
        """Use an already-built text encoder (its output size must match the trained projection)."""
        text_dim = self.model.text_projection.in_features
        if encoder.dim != text_dim:
            raise UserError(f"text encoder '{encoder.model_used}' gives {encoder.dim}-d embeddings; this "
                            f"checkpoint's text projection expects {text_dim}-d")
        self._text_encoder = encoder

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """[M, D] unit embeddings of free texts (frozen text encoder + the trained projection)."""
        raw = torch.as_tensor(np.asarray(self.text_encoder.encode(list(texts)), dtype=np.float32), device=self.device)
        with torch.no_grad():
            return self.model.encode_text(raw).float().cpu().numpy()

    def embed_windows(self, windows, *, batch_size: int = 256, cache_dir: str | Path | None = None,
                      progress: bool = True) -> np.ndarray:
        """[N, D] unit embeddings of a WindowSet (frozen-backbone features cached under `cache_dir` if given)."""
        from tqdm.auto import tqdm

        from ..data.batches import WindowDataset
        from .model import batch_inputs

        dataset = WindowDataset(windows, self.vocab)
        encoder = self.model.sensor_encoder
        features = None
        if cache_dir is not None and getattr(encoder, "uses_frozen_features", False):
            from ..encoders.cache import cached_features

            features = cached_features(encoder, dataset, cache_dir, batch_size=batch_size, progress=progress)
        out = np.zeros((len(dataset), self.model.text_projection.out_features), dtype=np.float32)
        starts = range(0, len(dataset), batch_size)
        with torch.no_grad():
            for start in tqdm(starts, desc="embed windows", unit="batch", disable=not progress):
                idx = np.arange(start, min(start + batch_size, len(dataset)))
                if features is not None:
                    inputs = {"features": torch.as_tensor(np.asarray(features[idx], dtype=np.float32),
                                                          device=self.device)}
                else:
                    inputs = batch_inputs(dataset.get_batch(idx), self.device)
                out[idx] = self.model.encode_sensor(inputs).float().cpu().numpy()
        return out


def model_from_checkpoint(ckpt: dict, device: str = "cpu"):
    """(ClipModel with the checkpoint's weights, in eval mode, vocab) from a loaded checkpoint dict."""
    from ..data.vocab import Vocab
    from .model import build_clip_model, rebuild_sensor_encoder

    try:
        encoder = rebuild_sensor_encoder(ckpt["encoder"]["kind"], ckpt["encoder"]["config"], device)
        model = build_clip_model(encoder, int(ckpt["text_dim"]), ckpt["config"])
        missing, unexpected = model.load_state_dict(ckpt["model"], strict=False)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:   # a foreign or damaged description
        raise UserError(f"the checkpoint's model cannot be rebuilt ({error_summary(err, 160)})") from None
    if missing or unexpected:
        raise UserError(f"checkpoint weights do not fit the rebuilt model (missing {missing[:5]}, "
                        f"unexpected {unexpected[:5]})")
    return model.to(device).eval(), Vocab({k: list(v) for k, v in ckpt["vocab"].items()})


def load_model(path: str | Path, device: str = "cpu", *, text_cache_dir: str | Path | None = None,
               text_backend: str | None = None) -> TrainedModel:
    """A TrainedModel from any homeclip checkpoint (best_model.pt, final_model.pt, checkpoint_step_<N>.pt).

    `text_cache_dir`: where caption embeddings are cached (None: the default rule of `paths.cache_dir`);
    `text_backend` overrides the training config's for the frozen text model."""
    ckpt = load_checkpoint(path, device, complete=True)
    model, vocab = model_from_checkpoint(ckpt, device)
    meta = {"encoder": ckpt["encoder"]["kind"], "encoder_config": ckpt["encoder"]["config"],
            "backbone_info": ckpt.get("backbone_info", {}), "text_encoder": ckpt.get("text_encoder", {}),
            "temperature": ckpt.get("temperature"), "step": ckpt.get("step"), "epoch": ckpt.get("epoch"),
            "checkpoint": str(path), **ckpt.get("meta", {})}
    classifier = None
    if "classifier" in ckpt:   # written by a supervised run
        from .supervised import LabelHead

        classifier = LabelHead.from_entry(ckpt["classifier"]).to(device)
    return TrainedModel(model=model, config=ckpt["config"], vocab=vocab, meta=meta, device=device,
                        text_cache_dir=text_cache_dir, classifier=classifier, text_backend=text_backend)
