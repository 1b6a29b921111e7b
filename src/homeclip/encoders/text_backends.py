"""How the frozen sentence encoder computes (`text_backend`), and the length-bucketed batches every backend uses.

    backend         what runs                                                      needs
    fp32            sentence-transformers on PyTorch, float32 weights (the reference)  -
    bf16            the same model with bfloat16 weights                           native bf16 (else slow)
    openvino-fp32   the transformer as an OpenVINO graph (fused attention, norms),  openvino (a dependency)
                    f32; sentence-transformers tokenises, pools and normalises
    openvino-bf16   the same graph at bf16 inference precision                     openvino + native bf16
    auto            the fastest this machine supports, from benchmarks/bench_text.py:
                    openvino-bf16 > bf16 > fp32 (openvino-fp32 when bf16 is not native)

Native bf16 means a CUDA device with bf16 or a CPU with AVX512_BF16/AMX (`precision.fast_bf16`); OpenVINO runs on
the CPU only. Every backend keeps the same model, tokenizer, pooling and normalisation, so embeddings agree with
fp32 to cosine >= 0.9999 (measured per run by the benchmark, tested on a random model); they are still not
bit-identical, so the caption cache keeps each backend's embeddings apart (see `text.TextEncoder`).
"""
from __future__ import annotations

import inspect
import logging
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .precision import fast_bf16

BACKENDS = ("auto", "fp32", "bf16", "openvino-fp32", "openvino-bf16")
# Padded tokens per forward pass. On 2 idle cores, MiniLM bf16 on demo captions: 2048 tokens ~265 captions/s,
# 4096 ~255, a fixed 64 texts per batch ~180 (long captions make batches that spill out of cache), 16 texts ~190.
TOKENS_PER_BATCH = 2048
log = logging.getLogger(__name__)


def openvino_available() -> bool:
    """True when the OpenVINO runtime is importable (a dependency where it has wheels)."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(requested: str, device: str) -> tuple[str, str]:
    """(backend that will run, why) for a requested `text_backend` on `device`; UserError when impossible."""
    if requested not in BACKENDS:
        raise UserError(f"text_backend must be one of {list(BACKENDS)}, got {requested!r}")
    bf16_ok, why = fast_bf16(device)
    on_cpu = not device.startswith("cuda")
    if requested == "auto":
        if on_cpu and openvino_available():
            return ("openvino-bf16" if bf16_ok else "openvino-fp32"), f"auto: OpenVINO installed; {why}"
        return ("bf16" if bf16_ok else "fp32"), f"auto: {why}" + ("; OpenVINO not installed" if on_cpu else "")
    if requested.startswith("openvino"):
        if not on_cpu:
            raise UserError(f"text_backend '{requested}' runs on the CPU only; use bf16 or fp32 on {device}")
        if not openvino_available():
            raise UserError(f"text_backend '{requested}' needs OpenVINO, which is not installed here: pip install openvino "
                            "(or use text_backend auto, bf16 or fp32)")
    if requested.endswith("bf16") and not bf16_ok:
        log.warning("text_backend %s requested but %s: expect it to be slower than fp32", requested, why)
    return requested, "requested"


def apply_backend(model, backend: str, graph_path: Path | None = None) -> None:
    """Make the loaded SentenceTransformer `model` compute with `backend` (in place); OpenVINO keeps its
    converted graph at `graph_path` (an .xml file, named by the model identity) when given."""
    # Explicit casts: transformers 5 loads weights in their stored dtype, and some published models (gte-base)
    # are stored in float16, which a CPU without fp16 units computes far slower than fp32.
    model.to(torch.bfloat16 if backend == "bf16" else torch.float32)
    if not backend.startswith("openvino"):
        return
    transformer = model[0]
    transformer.model = OpenVinoTransformer(transformer.model, precision=backend.split("-")[1], graph_path=graph_path)


def token_batches(lengths: list[int] | np.ndarray, budget: int = TOKENS_PER_BATCH) -> list[np.ndarray]:
    """Indices grouped into batches of similar token length, each padding to at most `budget` tokens
    (a text longer than the budget is a batch of its own). Shortest first."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        # sorted ascending: a batch pads to the length of its last text
        if end == len(order) or (end + 1 - start) * int(lengths[order[end]]) > budget:
            batches.append(order[start:end])
            start = end
    return batches


class OpenVinoTransformer(torch.nn.Module):
    """A Hugging Face encoder compiled by OpenVINO, called like the original (returns last_hidden_state).

    The graph is converted once per model and kept as OpenVINO IR at `graph_path` when one is given, so a
    later process only compiles it (converting traces the model: seconds)."""

    def __init__(self, hf_model, *, precision: str, graph_path: Path | None = None):
        super().__init__()
        import openvino as ov

        self.config = hf_model.config
        self.device = torch.device("cpu")
        self.dtype = torch.float32
        self.precision = precision
        accepted = inspect.signature(hf_model.forward).parameters
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]
        self.input_names = names
        core = ov.Core()
        ir = None if graph_path is None else Path(graph_path)
        if ir is not None and ir.is_file():
            graph = core.read_model(str(ir))
        else:
            # Tracing follows the example's branch: it must hold padding, or the traced graph could drop the
            # attention mask (transformers skips an all-ones mask).
            example = {"input_ids": torch.full((2, 8), 100, dtype=torch.long),
                       "attention_mask": torch.tensor([[1] * 8, [1] * 5 + [0] * 3]),
                       "token_type_ids": torch.zeros(2, 8, dtype=torch.long)}
            example = {n: example[n] for n in names}
            import warnings

            with torch.no_grad(), warnings.catch_warnings():
                # Tracing warns about every Python branch on a tensor shape (the example above fixes the branch
                # that matters, the padding mask) and about torch/transformers deprecations inside the tracer:
                # noise to a user, once per model and cache folder.
                warnings.simplefilter("ignore")
                graph = ov.convert_model(hf_model.eval(), example_input=example)
            if ir is not None:
                ir.parent.mkdir(parents=True, exist_ok=True)
                tmp = ir.with_name(f".{ir.stem}.{id(self)}.xml")
                ov.save_model(graph, str(tmp), compress_to_fp16=False)
                tmp.with_suffix(".bin").replace(ir.with_suffix(".bin"))   # weights first, then the graph
                tmp.replace(ir)
        self.compiled = core.compile_model(graph, "CPU", {
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
            "INFERENCE_NUM_THREADS": str(torch.get_num_threads()), "PERFORMANCE_HINT": "LATENCY"})
        self._request = self.compiled.create_infer_request()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, **_unused):
        """Token ids [B, L] -> an object with last_hidden_state [B, L, d] (float32), like transformers."""
        from transformers.modeling_outputs import BaseModelOutput

        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        if given["attention_mask"] is None:
            given["attention_mask"] = torch.ones_like(input_ids)
        if given["token_type_ids"] is None:
            given["token_type_ids"] = torch.zeros_like(input_ids)
        out = self._request.infer({n: given[n].numpy() for n in self.input_names})
        return BaseModelOutput(last_hidden_state=torch.from_numpy(np.array(out[self.compiled.output(0)])))

