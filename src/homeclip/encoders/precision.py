"""Numeric precision of the frozen models (Chronos backbones, the sentence encoder): float32 or bfloat16,
chosen at run time from what the device computes fast.

bf16 halves the bytes and, where the hardware has bf16 dot products, doubles the matmul rate; on a CPU
without them oneDNN emulates bf16 and it is slower than fp32. So "auto" picks bfloat16 on CUDA devices that
support it and on CPUs with AVX512_BF16 or AMX tiles, and float32 everywhere else (recorded with the reason).
"""
from __future__ import annotations

import torch

DTYPES = ("auto", "float32", "bfloat16")


def fast_bf16(device: str) -> tuple[bool, str]:
    """(whether bf16 matmuls are native on `device`, a short reason naming the feature found or missing)."""
    if device.startswith("cuda"):
        ok = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return ok, "CUDA device supports bf16" if ok else "CUDA device without bf16"
    cpu = getattr(torch, "cpu", None)
    features = [name for name, probe in (("AVX512_BF16", "_is_avx512_bf16_supported"),
                                         ("AMX", "_is_amx_tile_supported"))
                if bool(getattr(cpu, probe, lambda: False)())]
    if features:
        return True, f"CPU has {' and '.join(features)}"
    return False, "CPU has no AVX512_BF16/AMX (bf16 would be emulated, slower than fp32)"


def resolve_dtype(requested: str, device: str) -> tuple[str, str]:
    """("float32" | "bfloat16", why) for a requested dtype ("auto" | "float32" | "bfloat16") on `device`."""
    if requested not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {requested!r}")
    if requested != "auto":
        return requested, "requested"
    ok, why = fast_bf16(device)
    return ("bfloat16" if ok else "float32"), f"auto: {why}"
