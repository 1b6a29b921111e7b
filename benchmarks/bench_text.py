"""Caption and text-encoder benchmark: the text backends side by side, then the caption cache.

1. Backends (`text_backend`): `--backend-texts` distinct demo captions (simulated Milan, shuffled) embedded cold by
   every backend in alternating rounds on `--threads` threads (default 2), next to today's path (fp32, 64 texts
   per batch) and a few settings that are not backends (bf16 at 64 texts per batch; torch dynamic int8 with
   per-channel weights, all Linear layers or the FFN input layers only; OpenVINO rows when it is installed).
   Per row: captions/s (median and best round), speed-up over today, cosine to today's fp32 embeddings (mean, min),
   decisions on the captions (nearest label description, top-10 neighbours) compared with fp32, and the share of
   the physical limit: the captions' useful FLOPs (2 x linear weights x real tokens + attention) at the fp32 and
   bf16 matmul rates measured in the same rounds (2048^2 matmuls, each round right before the backends).
2. Cache: ~35k windows captioned, the captions of `--embed-windows` windows embedded cold (empty cache), warm
   from disk (a new encoder, a later run) and warm from memory, with the ratio to cold; the full set's cold time
   is extrapolated from its distinct-text count.

    .venv/bin/python benchmarks/bench_text.py                       # both parts (~5 min on 2 idle cores)
    .venv/bin/python benchmarks/bench_text.py --skip-cache --rounds 5
    .venv/bin/python benchmarks/bench_text.py --windows 5000 --embed-windows 0   # embed everything
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def milan_windows(n: int, source: str, seed: int):
    """(WindowSet, Home, description): simulated Milan windows, or synthetic ones."""
    from homeclip.data.homes import load_home

    home = load_home("milan")
    if source == "simulated":
        try:
            from homeclip.data.readers import read_log
            from homeclip.data.simulate import write_simulated_log
            from homeclip.data.windows import WindowConfig, make_windows
        except ImportError as err:
            print(f"simulator unavailable ({err}); using random windows", file=sys.stderr)
        else:
            days = max(2, round(n / 400) + 2)           # the simulator gives ~420 windows of 50 events a day
            with tempfile.TemporaryDirectory() as tmp:
                path = write_simulated_log(Path(tmp) / "milan.txt", home, days, seed=seed)
                ws = make_windows(read_log(path), home, WindowConfig())
            return ws.subset(list(range(min(n, len(ws))))), home, f"simulated Milan, {days} days"
    from homeclip.testing import random_windowset

    return random_windowset(n, seed=seed), home, "random_windowset"


def timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def warm_full_set(model: str, texts: list[str], cache: Path) -> float:
    """Seconds for a new run to read every text of the full set from a warm disk cache.

    The cache is filled through the normal write path (shards, compaction) with random unit rows instead of
    model outputs, because embedding the full set for real takes hours on two cores."""
    import numpy as np

    from homeclip.encoders.text import TextEncoder

    filler = TextEncoder(model, cache_dir=cache)
    rng = np.random.default_rng(0)

    def placeholder(batch: list[str]) -> np.ndarray:
        rows = rng.standard_normal((len(batch), filler.dim)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    filler._embed = placeholder
    filler.encode(texts)
    reader = TextEncoder(model, cache_dir=cache)
    _, seconds, _ = timed(lambda: reader.encode(texts))
    assert reader.stats["embedded"] == 0, "the warm run embedded texts: the cache missed"
    return seconds


# ------------------------------------------------------------------------------------------- backends
def caption_flops(model, lengths) -> float:
    """Useful FLOPs of embedding texts of these real token lengths (no padding) with a BERT-style encoder:
    2 x weights of the encoder layers' Linear modules per token, plus attention (QK^T and AV: 4 L^2 d per layer)."""
    from torch import nn

    encoder = model[0].auto_model.encoder
    weights = sum(m.weight.numel() for m in encoder.modules() if isinstance(m, nn.Linear))
    cfg = model[0].auto_model.config
    lengths = [int(n) for n in lengths]
    return sum(2 * weights * n + cfg.num_hidden_layers * 4 * n * n * cfg.hidden_size for n in lengths)


def _int8(enc, only: str | None):
    """Torch dynamic int8 (per-channel weights) on the fp32 encoder's Linear layers (`only`: a name filter)."""
    from torch import nn
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    bert = enc.model[0].model
    spec = {name: per_channel_dynamic_qconfig for name, m in bert.named_modules()
            if isinstance(m, nn.Linear) and name.startswith("encoder.") and (only is None or only in name)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc.model[0].model = quantize_dynamic(bert, spec, dtype=__import__("torch").qint8)
    return enc


def compare_backends(model: str, ws, home, *, n_texts: int, rounds: int, seed: int, source: str,
                     out: str | None = None) -> list[dict]:
    """Every backend (and a few other settings) on the same distinct captions, in alternating rounds."""
    import random

    import numpy as np
    import torch

    from bench_backbones import matmul_rate
    from homeclip.data.captions import caption_windows
    from homeclip.encoders.precision import fast_bf16
    from homeclip.encoders.text import TextEncoder
    from homeclip.encoders.text_backends import openvino_available

    caps = caption_windows(ws, home, seed=seed)
    label_of: dict[str, str] = {}
    for c, label in zip(caps, ws.label_l1):
        for style in sorted(c):
            for t in c[style]:
                label_of.setdefault(t, str(label))
    texts = list(label_of)
    random.Random(seed).shuffle(texts)
    texts = texts[:n_texts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make = lambda backend, **kw: TextEncoder(model, backend=backend, **kw)  # noqa: E731
        runs = {"fp32, 64 texts/batch (today)": (make("fp32"), "legacy"),
                "fp32": (make("fp32"), "compute"), "bf16": (make("bf16"), "compute"),
                "bf16, 64 texts/batch": (make("bf16"), "legacy"),
                "int8 dynamic, all Linear": (_int8(make("fp32"), None), "compute"),
                "int8 dynamic, FFN input only": (_int8(make("fp32"), "intermediate"), "compute")}
        if openvino_available():
            runs["openvino-fp32"] = (make("openvino-fp32"), "compute")
            runs["openvino-bf16"] = (make("openvino-bf16"), "compute")
    ref_enc = runs["fp32, 64 texts/batch (today)"][0]

    def embed(enc, how):
        if how == "compute":
            return enc.compute(texts)
        return np.asarray(enc.model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                                           show_progress_bar=False), dtype=np.float32)

    tok = ref_enc.model.tokenizer(texts, truncation=True, max_length=ref_enc.model.max_seq_length)
    lengths = [len(ids) for ids in tok["input_ids"]]
    flops = caption_flops(ref_enc.model, lengths)
    bf16_native, why = fast_bf16("cpu")
    print(f"\n== text backends: {ref_enc.model_used}, {len(texts)} distinct demo captions ({source}), "
          f"{np.mean(lengths):.1f} tokens on average (max {max(lengths)}), {flops / len(texts) / 1e9:.3f} GFLOP per "
          f"caption; bf16 native: {bf16_native} ({why}); OpenVINO installed: {openvino_available()}")
    seconds = {name: [] for name in runs}
    rates = {"float32": [], "bfloat16": []}
    outputs = {}
    for name, (enc, how) in runs.items():        # warm-up (first-call allocations, OpenVINO compilation)
        outputs[name] = embed(enc, how)
    for r in range(rounds):
        for dtype in rates:
            rates[dtype].append(matmul_rate("cpu", 2048, 0.5, getattr(torch, dtype)))
        for name, (enc, how) in runs.items():
            start = time.perf_counter()
            embed(enc, how)
            seconds[name].append(time.perf_counter() - start)
        print(f"  round {r + 1}/{rounds} done (load average {os.getloadavg()[0]:.1f})", flush=True)
    peak = {dtype: float(np.median(v)) for dtype, v in rates.items()}
    limit = {dtype: peak[dtype] * 1e9 / (flops / len(texts)) for dtype in peak}
    print(f"matmul rate (median of rounds): fp32 {peak['float32']:.0f} GFLOP/s, bf16 {peak['bfloat16']:.0f} GFLOP/s"
          f" -> physical limit {limit['float32']:.0f} captions/s in fp32, {limit['bfloat16']:.0f} in bf16 "
          "(matmul-bound, no padding)")
    ref = outputs["fp32, 64 texts/batch (today)"]
    base = len(texts) / float(np.median(seconds["fp32, 64 texts/batch (today)"]))
    decide = _decisions(texts, label_of, home)
    ref_dec = decide(ref, ref_enc)
    print(f"\n{'backend':32s}{'capt/s':>8s}{'best':>7s}{'x today':>8s}{'cos mean':>10s}{'cos min':>10s}"
          f"{'label=':>8s}{'top10':>7s}{'% limit':>9s}")
    rows = []
    for name, (enc, _) in runs.items():
        rate = len(texts) / float(np.median(seconds[name]))
        best = len(texts) / min(seconds[name])
        emb = outputs[name]
        cos = (emb * ref).sum(1) / np.linalg.norm(emb, axis=1) / np.linalg.norm(ref, axis=1)
        dec = decide(emb, enc)
        dtype = "bfloat16" if "bf16" in name else "float32"
        row = {"backend": name, "captions_per_s": rate, "best_round_captions_per_s": best, "speedup": rate / base,
               "cos_mean": float(cos.mean()), "cos_min": float(cos.min()),
               "same_label": float((dec["label"] == ref_dec["label"]).mean()),
               "top10_overlap": float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(dec["top10"], ref_dec["top10"])])),
               "zero_shot_accuracy": float(dec["accuracy"]), "limit_dtype": dtype,
               "fraction_of_limit": rate / limit[dtype]}
        rows.append(row)
        print(f"{name:32s}{rate:8.0f}{best:7.0f}{row['speedup']:7.2f}x{row['cos_mean']:10.5f}{row['cos_min']:10.5f}"
              f"{100 * row['same_label']:7.1f}%{100 * row['top10_overlap']:6.1f}%"
              f"{100 * row['fraction_of_limit']:6.0f}% {'bf16' if dtype == 'bfloat16' else 'fp32'}")
    print("label=: captions whose nearest label description (text-side zero-shot) is the one fp32 picks; "
          "top10: overlap of each caption's 10 nearest captions with fp32's; % limit: of the matmul-bound rate in "
          "the row's precision (int8 rows against fp32).\n"
          f"text-side zero-shot accuracy of fp32: {ref_dec['accuracy']:.3f} "
          f"(caption -> nearest of {len(decide.labels)} label prototypes)")
    if out:
        Path(out).write_text(json.dumps({"rows": rows, "matmul_gflop_per_s": peak, "limit_captions_per_s": limit,
                                         "n_texts": len(texts), "mean_tokens": float(np.mean(lengths)),
                                         "load_average": os.getloadavg()}, indent=2))
    return rows


def _decisions(texts: list[str], label_of: dict[str, str], home):
    """A function: (embeddings, encoder) -> each caption's nearest label prototype (the label descriptions
    embedded by the same encoder) and its 10 nearest other captions."""
    import numpy as np

    from homeclip.evaluation import zeroshot

    labels = sorted({label_of[t] for t in texts} & set(home.descriptions)) or sorted({label_of[t] for t in texts})
    descriptions, _ = zeroshot.label_descriptions(labels, home.descriptions)
    truth = np.array([label_of[t] for t in texts], dtype=object)

    def decide(emb, enc):
        protos = zeroshot.build_prototypes(descriptions, lambda x: enc.compute(list(x)))
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        pred, _ = zeroshot.predict_nearest(unit, protos)
        sims = unit @ unit.T
        np.fill_diagonal(sims, -np.inf)
        top10 = np.argsort(-sims, axis=1)[:, :10]
        return {"label": np.asarray(pred, dtype=object), "top10": top10, "accuracy": (np.asarray(pred) == truth).mean()}

    decide.labels = labels
    return decide


def downstream(days: int, epochs: int, seed: int, model: str) -> None:
    """Train and evaluate the statistics-backbone CLIP model on a simulated home with the caption embeddings of
    fp32 and bf16 (same seed), plus fp32 with another seed: the seed-to-seed gap is the noise bf16 is judged by."""
    from homeclip.data.homes import load_home
    from homeclip.data.prepare import prepare_dataset
    from homeclip.data.simulate import write_simulated_log
    from homeclip.data.windows import SplitConfig, WindowConfig
    from homeclip.experiment import Experiment, run_experiment, short_schedule

    home = load_home("milan")
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Path(tmp)
        raw = write_simulated_log(out / "raw.txt", home, days, seed=seed)
        prepare_dataset(raw, home, out / "data", window=WindowConfig(length=50, stride=25), split=SplitConfig(seed=seed))
        config = root / "configs" / "training" / "milan" / "statistics_clip.json"
        runs = {"fp32": ("fp32", seed), "bf16": ("bf16", seed), "fp32, other seed": ("fp32", seed + 1)}
        exp = Experiment(data_dir=out / "data", home=home.name, out=out, device="cpu",
                         configs={name: config for name in runs},
                         overrides={**short_schedule(epochs, seed), "text_model_name": model, "allow_fallback": False},
                         run_overrides={name: {"text_backend": b, "seed": s} for name, (b, s) in runs.items()})
        result = run_experiment(exp, say=lambda text: print(f"  {text}", flush=True))
        print(f"\n== downstream ({days} simulated days, statistics backbone, {epochs} epochs): test split")
        print(f"{'run':20s}{'L1 zero-shot F1':>17s}{'L2 zero-shot F1':>17s}{'t->s R@10':>11s}{'t->s mAP':>10s}"
              f"{'s->t R@10':>11s}")
        metrics = {}
        for name, folder in result["eval_dirs"].items():
            r = json.loads((folder / "evaluation_results.json").read_text())
            t2s, s2t = r["retrieval"]["text_to_sensor"], r["retrieval"]["sensor_to_text"]
            metrics[name] = [r["levels"]["l1"]["methods"]["zeroshot"]["macro_f1"],
                             r["levels"]["l2"]["methods"]["zeroshot"]["macro_f1"], t2s["R@10"], t2s["mAP"], s2t["R@10"]]
            print(f"{name:20s}" + "".join(f"{v:{w}.3f}" for v, w in zip(metrics[name], (17, 17, 11, 10, 11))))
        gap = lambda a, b: max(abs(x - y) for x, y in zip(metrics[a], metrics[b]))  # noqa: E731
        print(f"largest |bf16 - fp32| {gap('bf16', 'fp32'):.3f} vs largest |seed 1 - seed 0| (fp32) "
              f"{gap('fp32, other seed', 'fp32'):.3f}")


def main() -> int:
    """Run the benchmark and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=35_000, help="windows to caption (default 35000)")
    ap.add_argument("--embed-windows", type=int, default=1000,
                    help="windows whose captions are embedded (0 = all; default 1000)")
    ap.add_argument("--source", choices=("simulated", "random"), default="simulated")
    ap.add_argument("--model", default="offline", help="text model (default: the offline MiniLM)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend-texts", type=int, default=768, help="distinct captions per backend round (768)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of the backend comparison (3)")
    ap.add_argument("--threads", type=int, default=2, help="torch / OpenVINO threads (default 2)")
    ap.add_argument("--skip-backends", action="store_true", help="only the cache part")
    ap.add_argument("--skip-cache", action="store_true", help="skip the cache part")
    ap.add_argument("--downstream-days", type=int, default=5,
                    help="simulated days of the downstream fp32-vs-bf16 training check (0 = skip; default 5)")
    ap.add_argument("--downstream-epochs", type=int, default=6)
    ap.add_argument("--out", default=None, help="write the backend rows as JSON here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cpus, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.skip_backends:
        ws, home, source = milan_windows(1500, args.source, args.seed)
        compare_backends(args.model, ws, home, n_texts=args.backend_texts, rounds=args.rounds, seed=args.seed,
                         source=source, out=args.out)
    if args.downstream_days > 0:
        downstream(args.downstream_days, args.downstream_epochs, args.seed, args.model)
    if args.skip_cache:
        return 0
    print(f"\n== caption cache (load average {os.getloadavg()[0]:.1f})")
    from homeclip.data.captions import caption_windows

    (ws, home, source), sim_s, _ = timed(lambda: milan_windows(args.windows, args.source, args.seed))
    print(f"windows: {len(ws)} ({source}, built in {sim_s:.1f} s)")
    caps, cap_wall, cap_cpu = timed(lambda: caption_windows(ws, home, seed=args.seed))
    texts_all = [t for c in caps for style in sorted(c) for t in c[style]]
    distinct_all = len(set(texts_all))
    print(f"captioning: {len(ws)} windows in {cap_wall:.2f} s wall / {cap_cpu:.2f} s CPU "
          f"({len(ws) / cap_wall:,.0f} windows/s); {len(texts_all):,} captions, {distinct_all:,} distinct "
          f"({len(texts_all) / max(distinct_all, 1):.2f} captions per distinct text)")

    from homeclip.encoders.text import TextEncoder

    n_embed = len(caps) if args.embed_windows <= 0 else min(args.embed_windows, len(caps))
    texts = [t for c in caps[:n_embed] for style in sorted(c) for t in c[style]]
    with tempfile.TemporaryDirectory() as cache, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc, load_s, _ = timed(lambda: TextEncoder(args.model, cache_dir=cache))
        print(f"text encoder: {enc.model_used} ({enc.dim}-d), loaded in {load_s:.1f} s"
              + (f"; fallback: {enc.fallback_reason}" if enc.fallback_reason else ""))
        _, cold_s, _ = timed(lambda: enc.encode(texts, progress=True))
        embedded = enc.stats["embedded"]
        _, mem_s, _ = timed(lambda: enc.encode(texts))
        warm = TextEncoder(args.model, cache_dir=cache)
        _, disk_s, _ = timed(lambda: warm.encode(texts))
        assert warm.stats["embedded"] == 0, "the warm run embedded texts: the cache missed"

        full_s = warm_full_set(args.model, texts_all, Path(cache) / "full")

    rows = [("cold (empty cache)", cold_s), ("warm disk (new run)", disk_s), ("warm memory (same run)", mem_s)]
    print(f"\nembedding the captions of {n_embed} windows: {len(texts):,} captions, {embedded:,} distinct")
    print(f"{'':24s}{'seconds':>10s}{'captions/s':>14s}{'ratio':>10s}")
    for name, sec in rows:
        print(f"{name:24s}{sec:10.3f}{len(texts) / sec:14,.0f}{cold_s / sec:9.0f}x")
    print(f"cold: {embedded / cold_s:,.0f} distinct texts/s embedded by the model, "
          f"{len(texts) / cold_s:,.0f} captions/s covered thanks to dedupe")
    est = distinct_all / (embedded / cold_s)
    print(f"full set ({len(texts_all):,} captions, {distinct_all:,} distinct): cold ~{est / 60:.1f} min "
          f"(extrapolated); warm disk {full_s:.2f} s measured ({len(texts_all) / full_s:,.0f} captions/s, "
          "cache pre-filled with placeholder rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
