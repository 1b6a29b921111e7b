"""Frozen-backbone feature extraction throughput (windows/s) for the published Chronos architectures.

    .venv/bin/python benchmarks/bench_backbones.py [--quick] [--families chronos2,bolt,t5] [--device cpu] [--out F]

Models: chronos-2 (120M: d_model 768, 12 layers), chronos-bolt-small and chronos-t5-small, built with random
weights (no model hub needed; speed does not depend on the weights). Input: 50-event windows x 5 channels, as
`homeclip.encoders.series.build_series` makes them. Each measurement is put next to this machine's matmul
rate (large square matrices, fp32 on the CPU / bf16 on CUDA) measured right before it, as the fraction of
compute-bound peak reached: FLOPs per window = 2 x (weights each token passes through) x tokens + attention
(time attention per channel; Chronos-2's group attention within the window's own group only).
Settings tried: windows per forward pass, torch.inference_mode vs no_grad, thread count, fused vs per-channel
batches (univariate families), eager vs SDPA attention and torch.compile (Chronos-2, full run only), and on
the CPU bfloat16 weights (what `backbone_dtype: auto` picks on CPUs with AVX512_BF16/AMX), put next to the bf16
matmul rate measured in the same rounds, with its fidelity to fp32: cosine of the pooled features (all of them,
and only the model-token parts, without loc / log scale) and a linear probe on the windows' labels trained on
each (accuracy and how often the two probes agree).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn

from homeclip.data.batches import WindowDataset
from homeclip.data.vocab import build_vocab
from homeclip.encoders.backbones import BoltBackbone, Chronos2Backbone, T5Backbone
from homeclip.encoders.series import SeriesConfig, build_series
from homeclip.testing import chronos_pipeline, random_windowset

ROOT = Path(__file__).resolve().parents[1]

N_EVENTS, N_CHANNELS = 50, 5
CLASSES = {"chronos2": Chronos2Backbone, "bolt": BoltBackbone, "t5": T5Backbone}
NAMES = {"chronos2": "chronos-2 (120M)", "bolt": "chronos-bolt-small", "t5": "chronos-t5-small"}


def matmul_rate(device: str, n: int, seconds: float, dtype: torch.dtype | None = None) -> float:
    """GFLOP/s of torch.matmul on n x n matrices (default fp32 on CPU, bf16 on CUDA), best of repeated runs."""
    dtype = dtype or (torch.bfloat16 if device.startswith("cuda") else torch.float32)
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _sync(device)
        t = time.perf_counter()
        for _ in range(4 if device == "cpu" else 50):
            a @ b
        _sync(device)
        best = max(best, 2 * n**3 * (4 if device == "cpu" else 50) / (time.perf_counter() - t) / 1e9)
    return best


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _linear_weights(module: nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Linear))


def flops_per_window(backbone) -> dict:
    """Useful FLOPs of one full 50-event, 5-channel window (no padding), and the token count behind them."""
    model, family = backbone.model, backbone.family
    cfg = model.config
    inner, layers = cfg.num_heads * cfg.d_kv, cfg.num_layers
    encoder = _linear_weights(model.encoder)
    if family == "t5":
        tokens, embedded, patch_weights = N_EVENTS + 1, 0, 0         # steps + EOS; token embeddings are lookups
    else:
        patches = math.ceil(N_EVENTS / 16)
        extra = 1 if family == "bolt" else 2                          # [REG] (+ Chronos-2's future patch)
        tokens, embedded = patches + extra, patches + (extra - 1)     # patches (and future patch) go through the MLP
        patch_weights = _linear_weights(model.input_patch_embedding)
    per_channel = 2 * encoder * tokens + 2 * patch_weights * embedded + layers * 4 * tokens**2 * inner
    group = layers * tokens * 4 * N_CHANNELS**2 * inner if family == "chronos2" else 0
    return {"tokens_per_channel": tokens, "linear_weights": encoder + patch_weights,
            "gflop": (N_CHANNELS * per_channel + group) / 1e9}


def make_series(n: int, with_labels: bool = False):
    """n full 50-event windows as 5-channel series (and their activity labels)."""
    windows = random_windowset(n, N_EVENTS, seed=0, min_len=N_EVENTS)
    ds = WindowDataset(windows, build_vocab(windows, split="train"))
    b = ds.get_batch(list(range(n)))
    cfg = SeriesConfig(sensor_vocab_size=ds.vocab.sizes["sensor"], room_vocab_size=ds.vocab.sizes["room"])
    series = build_series(cfg, b["categorical_features"], b["coordinates"], b["time_deltas"], b["mask"])
    return (series, list(windows.label_l1)) if with_labels else series


def embed_with(backbone, series: torch.Tensor, grad_mode: str, per_channel: bool) -> torch.Tensor:
    """Run the backbone's chunks under `grad_mode`; `per_channel` embeds each channel as its own batch."""
    ctx = torch.inference_mode() if grad_mode == "inference_mode" else torch.no_grad()
    with ctx:
        out = []
        for i in range(0, series.shape[0], backbone.chunk_size):
            chunk = series[i:i + backbone.chunk_size]
            if per_channel:
                out.append(torch.cat([backbone.single._embed_chunk(chunk[:, c:c + 1])
                                      for c in range(chunk.shape[1])], dim=1))
            else:
                out.append(backbone._embed_chunk(chunk))
    return torch.cat(out)


def measure(backbone, series, *, device, grad_mode="inference_mode", per_channel=False, threads=None,
            rounds=3, peak_n=2048) -> dict:
    """windows/s of one setting next to the matmul rate in the backbone's own dtype, measured in alternating
    rounds (matmul burst, then one pass over the windows) so that both see the same machine load, threads and
    clocks."""
    default_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        embed_with(backbone, series[:backbone.chunk_size], grad_mode, per_channel)      # warm-up
        peaks, seconds = [], 0.0
        for _ in range(rounds):
            peaks.append(matmul_rate(device, peak_n if device == "cpu" else 8192, 0.5, backbone.model.dtype))
            start = time.perf_counter()
            embed_with(backbone, series, grad_mode, per_channel)
            _sync(device)
            seconds += time.perf_counter() - start
    finally:
        torch.set_num_threads(default_threads)
    rate = rounds * series.shape[0] / seconds
    peak = sorted(peaks)[len(peaks) // 2]
    gflop = flops_per_window(backbone)["gflop"]
    return {"chunk": backbone.chunk_size, "dtype": str(backbone.model.dtype).replace("torch.", ""),
            "grad_mode": grad_mode, "per_channel": per_channel,
            "threads": threads or default_threads, "windows_per_s": rate, "gflop_per_s": rate * gflop,
            "peak_gflop_per_s": peak, "peak_fraction": rate * gflop / peak}


def build(family: str, device: str, chunk: int, dtype: torch.dtype | None = None):
    """A published-size random-weight backbone (same weights for every call), fp32 on CPU / bf16 on CUDA."""
    pipeline = chronos_pipeline(family, "published")
    dtype = dtype or (torch.float32 if device == "cpu" else torch.bfloat16)
    if device != "cpu" or dtype != torch.float32:
        pipeline.inner_model.to(device=device, dtype=dtype)
    kwargs = dict(requested=NAMES[family], model_id=NAMES[family], device=device, chunk_size=chunk)
    backbone = CLASSES[family](pipeline, n_channels=N_CHANNELS, n_targets=N_CHANNELS, **kwargs)
    if family != "chronos2":
        backbone.single = CLASSES[family](pipeline, n_channels=1, n_targets=1, **kwargs)
    return backbone


def run_family(family: str, device: str, quick: bool, log) -> list[dict]:
    chunks = {"chronos2": [32, 64] if quick else [8, 16, 32, 64, 128],
              "bolt": [64, 256] if quick else [16, 64, 256], "t5": [16, 64] if quick else [8, 16, 64]}[family]
    if device != "cpu":
        chunks = [64, 256, 1024]
    backbone = build(family, device, chunks[0])
    series = make_series(max(chunks))
    fl = flops_per_window(backbone)
    log(f"\n== {NAMES[family]}: {sum(p.numel() for p in backbone.model.parameters()) / 1e6:.1f}M parameters, "
        f"{fl['linear_weights'] / 1e6:.1f}M weights per token, {fl['tokens_per_channel']} tokens/channel, "
        f"{fl['gflop']:.2f} GFLOP/window")
    rows = []

    def record_row(row: dict, note: str) -> None:
        row.update(family=family, note=note)
        rows.append(row)
        log(f"{note:<34} chunk {row['chunk']:>4}  threads {row['threads']}  {row['windows_per_s']:8.2f} win/s  "
            f"{row['gflop_per_s']:8.1f} GFLOP/s  {row['dtype']} peak {row['peak_gflop_per_s']:8.1f}  "
            f"-> {100 * row['peak_fraction']:5.1f}% of peak")

    def record(note: str, **kw):
        record_row(measure(backbone, series, device=device, rounds=2 if quick else 4, **kw), note)

    for c in chunks:
        backbone.chunk_size = c
        record("windows per forward pass")
    best = max(rows, key=lambda r: r["peak_fraction"])["chunk"]
    backbone.chunk_size = best
    if device == "cpu":
        compare_bf16(backbone, series, quick, record_row, log)
    record("torch.no_grad instead of inference", grad_mode="no_grad")
    if device == "cpu" and torch.get_num_threads() > 1:
        record("one thread", threads=1)
    if family != "chronos2":
        backbone.single.chunk_size = best
        record("channels as separate batches", per_channel=True)
    else:
        attn = backbone.model.config._attn_implementation
        backbone.model.config._attn_implementation = "eager"
        record("eager attention (default sdpa)")
        backbone.model.config._attn_implementation = attn
        if not quick:
            try:
                backbone.model.encoder = torch.compile(backbone.model.encoder, dynamic=False)
                record("torch.compile(encoder)")
            except Exception as err:  # noqa: BLE001 - report, keep measuring
                log(f"torch.compile(encoder) failed: {type(err).__name__}: {str(err).splitlines()[0][:120]}")
    return rows


def compare_bf16(backbone, series, quick: bool, record_row, log) -> None:
    """fp32 and bf16 weights at the same chunk size, measured in alternating rounds, plus bf16's fidelity."""
    bf16 = build(backbone.family, "cpu", backbone.chunk_size, torch.bfloat16)
    runs = {"fp32 (alternating with bf16)": (backbone, []), "bfloat16 weights": (bf16, [])}
    for _ in range(2 if quick else 4):
        for model, parts in runs.values():
            parts.append(measure(model, series, device="cpu", rounds=1))
    rows = {}
    for note, (model, parts) in runs.items():
        seconds = sum(series.shape[0] / p["windows_per_s"] for p in parts)
        row = dict(parts[0], windows_per_s=len(parts) * series.shape[0] / seconds,
                   peak_gflop_per_s=sorted(p["peak_gflop_per_s"] for p in parts)[len(parts) // 2])
        row["gflop_per_s"] = row["windows_per_s"] * flops_per_window(model)["gflop"]
        row["peak_fraction"] = row["gflop_per_s"] / row["peak_gflop_per_s"]
        rows[note] = row
    fp32_row, row = rows.values()
    row.update(bf16_fidelity(backbone, bf16, 128 if quick else 256),
               speedup_vs_fp32=row["windows_per_s"] / fp32_row["windows_per_s"])
    for note, r in rows.items():
        record_row(r, note)
    log(f"{'':<34} bf16 vs fp32: {row['speedup_vs_fp32']:.2f}x; pooled-feature cosine mean {row['cos_mean']:.6f} "
        f"min {row['cos_min']:.6f} (model tokens only: mean {row['cos_tokens_mean']:.6f} min "
        f"{row['cos_tokens_min']:.6f}); probe accuracy fp32 {row['probe_fp32']:.3f} bf16 "
        f"{row['probe_bf16']:.3f}, same prediction for {100 * row['probe_agreement']:.1f}% of windows")


def bf16_fidelity(fp32, bf16, n: int) -> dict:
    """Pooled-feature cosine of the bf16 backbone to the fp32 one on `n` windows, and a linear probe on each."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    series, labels = make_series(n, with_labels=True)
    a, b = fp32.embed(series).double(), bf16.embed(series).double()
    # Per channel the features end with loc and log scale (T5: log scale only), which are exact in both.
    exact = 1 if fp32.family == "t5" else 2
    per = a.shape[1] // N_CHANNELS
    tokens = torch.ones(per, dtype=torch.bool)
    tokens[per - exact:] = False
    tokens = tokens.repeat(N_CHANNELS)
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1)
    cos_tok = torch.nn.functional.cosine_similarity(a[:, tokens], b[:, tokens], dim=1)
    # labels cycle through the classes window by window: alternate blocks of six so both halves hold every class
    train = [i for i in range(n) if (i // 6) % 2 == 0]
    test = [i for i in range(n) if (i // 6) % 2 == 1]
    preds, accuracy = [], []
    for feats in (a.numpy(), b.numpy()):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        probe.fit(feats[train], [labels[i] for i in train])
        preds.append(probe.predict(feats[test]))
        accuracy.append(float((preds[-1] == [labels[i] for i in test]).mean()))
    return {"cos_mean": float(cos.mean()), "cos_min": float(cos.min()), "cos_tokens_mean": float(cos_tok.mean()),
            "cos_tokens_min": float(cos_tok.min()), "probe_fp32": accuracy[0], "probe_bf16": accuracy[1],
            "probe_agreement": float((preds[0] == preds[1]).mean()), "fidelity_windows": n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer settings, shorter timings")
    parser.add_argument("--families", default="chronos2,bolt,t5")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="write all measurements as JSON here")
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    log(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    rows = []
    for family in args.families.split(","):
        rows += run_family(family, args.device, args.quick, log)
    log("\nbest per family and dtype:")
    for family in args.families.split(","):
        for dtype in ("float32", "bfloat16"):
            mine = [r for r in rows if r["family"] == family and r["dtype"] == dtype]
            if not mine:
                continue
            best = max(mine, key=lambda r: r["windows_per_s"])
            log(f"  {NAMES[family]:<20} {dtype:<9} {best['windows_per_s']:8.2f} windows/s  "
                f"{100 * best['peak_fraction']:5.1f}% of the {best['peak_gflop_per_s']:.0f} GFLOP/s {dtype} matmul rate"
                f"  ({best['note']}, chunk {best['chunk']})")
    if args.out:
        Path(args.out).write_text(json.dumps({"device": args.device, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
