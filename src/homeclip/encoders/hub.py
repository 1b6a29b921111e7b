"""Finding model weights: a local directory, the local Hugging Face cache, or the hub — and failing in
seconds, not after minutes of retries, when the hub cannot be reached. Shared by the Chronos backbones and
the text encoder so both follow one policy."""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import torch

from ..errors import UserError

HUB_PROBE_TIMEOUT_S = 5.0


def check_device(device: str) -> None:
    """Refuse a CUDA device that torch cannot see, with a sentence instead of a CUDA traceback."""
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device '{device}' was requested but torch sees no CUDA device; use device 'cpu'")


def error_summary(err: BaseException, limit: int | None = None) -> str:
    """`Type: first line of the message` (at most `limit` characters of it), for warnings, recorded fallback
    reasons and one-line errors."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:limit] if text else ''}".rstrip(": ")


def locate_model(name: str) -> tuple[Path | None, bool]:
    """Where to load `name` from: (local directory or None, local_files_only for a hub id).

    Raises FileNotFoundError for a path that does not exist and ConnectionError when the model is neither
    cached nor servable by a reachable hub."""
    local = Path(name).expanduser()
    if local.is_dir():
        return local, True
    if name.startswith(("/", ".", "~")) or name.count("/") > 1:
        raise FileNotFoundError(f"no model directory {name}")
    if in_hub_cache(name):
        return None, True
    reason = hub_unreachable(name)
    if reason:
        raise ConnectionError(reason)
    return None, False


def in_hub_cache(model_id: str) -> bool:
    """True when the model's config is already in the local Hugging Face cache."""
    return cached_snapshot(model_id) is not None


def cached_snapshot(model_id: str) -> Path | None:
    """The local Hugging Face cache folder of `model_id`'s cached revision (snapshots/<commit>), or None.

    Loaders open this folder rather than the id once the model is cached: some loaders still ask the hub
    for optional files despite local_files_only (chronos-forecasting 2.3 looks for a LoRA adapter_config.json),
    and with no network each such request costs seconds of retries."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, "config.json")
    return Path(found).parent if isinstance(found, str) else None


def hub_unreachable(model_id: str, timeout: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """None when the hub answers; otherwise why not. One HEAD request (proxies respected) instead of the
    hub client's minute of retries."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes") or constants.HF_HUB_OFFLINE:
        return "not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
    url = f"{constants.ENDPOINT}/api/models/{model_id}"
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError:
        return None            # the hub answered (e.g. 401/404): from_pretrained gives the precise error
    except (urllib.error.URLError, OSError) as err:
        return f"model hub {constants.ENDPOINT} unreachable ({getattr(err, 'reason', err)})"
    return None
