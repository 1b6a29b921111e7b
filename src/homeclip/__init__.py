"""homeclip: align smart-home sensor windows with text, CLIP-style, on frozen Chronos backbones.

    from homeclip import ChronosEncoder
    encoder = ChronosEncoder(vocab_sizes=vocab.sizes_of(SEED_FIELDS), chronos_model_name="amazon/chronos-t5-small")
    emb = encoder.forward_clip(**batch_inputs)     # [B, 512], unit norm
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["ChronosEncoder", "TransformerEncoder", "__version__"]


def __getattr__(name: str):
    # Lazy: `import homeclip` (and `homeclip --help`) must not pay for torch and chronos.
    if name == "ChronosEncoder":
        from .encoders.chronos import ChronosEncoder

        return ChronosEncoder
    if name == "TransformerEncoder":
        from .encoders.transformer import TransformerEncoder

        return TransformerEncoder
    raise AttributeError(f"module 'homeclip' has no attribute {name!r}")
