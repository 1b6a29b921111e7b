"""The evaluation orchestration on a fake model whose embeddings are known, and (when the trainer has landed)
end to end on a tiny trained checkpoint through the CLI and the original thin script."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from homeclip.data.homes import Home
from homeclip.evaluation.evaluate import (METHODS, SCHEMA, EvalConfig, evaluate_model, missing_keys, model_info,
                                          read_training_metrics)
from homeclip.testing import random_windowset

ROOT = Path(__file__).resolve().parents[1]
ROOM_WORDS = ("kitchen", "bedroom", "bathroom", "living", "office", "entrance", "garage")


def _room_vector(room: str) -> int:
    return next(i for i, w in enumerate(ROOM_WORDS) if room.startswith(w))


class FakeTextEncoder:
    """Texts -> counts of room words (+2 hashed noise dims so no row is zero), unit rows."""

    model_used = "fake-room-words"
    fallback_reason = None
    dim = len(ROOM_WORDS) + 2

    def encode(self, texts, progress=False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace("_", " ").split():
                for j, room in enumerate(ROOM_WORDS):
                    if word.startswith(room):
                        out[i, j] += 1.0
            rng = np.random.default_rng(sum(map(ord, text)))
            out[i, -2:] = 0.05 * rng.normal(size=2)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def info(self):
        return {"requested": self.model_used, "used": self.model_used, "fallback_reason": None, "dim": self.dim}


class FakeModel:
    """A stand-in for TrainedModel: windows -> fraction of events per room, texts -> room words, one shared
    random rotation into 16 dims. Counts embed_windows calls so cache tests can check them."""

    def __init__(self, seed: int = 0, backbone: str = "statistics"):
        q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(16, 16)))
        self.proj = q[: FakeTextEncoder.dim].astype(np.float32)
        self.text_encoder = FakeTextEncoder()
        self.config = {"caption_types": "long"}
        self.meta = {"encoder_kind": "fake", "home": "synthetic",
                     "backbone_info": {"requested": backbone, "used": backbone, "fallback_reason": None},
                     "text_encoder": self.text_encoder.info()}
        self.window_calls = 0

    def embed_windows(self, windows, *, batch_size=256, cache_dir=None, progress=True):
        self.window_calls += 1
        raw = np.zeros((len(windows), FakeTextEncoder.dim), dtype=np.float32)
        for i in range(len(windows)):
            for room in windows.strings("room", i):
                raw[i, _room_vector(room)] += 1.0
        raw /= np.linalg.norm(raw, axis=1, keepdims=True)
        out = raw @ self.proj
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_texts(self, texts):
        out = self.text_encoder.encode(list(texts)) @ self.proj
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def synthetic_home() -> Home:
    """The labels of random_windowset with hand-written descriptions (Leave_Home deliberately has none)."""
    return Home(
        name="synthetic", sensors={}, bounds=(0.0, 0.0, 1.0, 1.0),
        label_map={"Watch_TV": "Relax", "Desk_Activity": "Work"},
        descriptions={"Cook": ["preparing food in the kitchen", "a meal at the kitchen counter"],
                      "Sleep": ["lying in the bedroom at night"], "Bathing": ["washing in the bathroom"],
                      "Watch_TV": ["sitting on the sofa in the living room"], "Relax": ["resting in the living room"],
                      "Desk_Activity": ["typing at the office desk"], "Work": ["working in the office"]},
        descriptions_source="written by hand for the tests, without the caption templates' words",
    )


def split_windows(n: int = 72, seed: int = 0):
    """Train/test in alternating blocks of 6 so both splits hold every label."""
    ws = random_windowset(n=n, seq_len=20, seed=seed)
    block = (np.arange(n) // 6) % 2
    return ws.subset(np.flatnonzero(block == 0)), ws.subset(np.flatnonzero(block == 1))


FAST = EvalConfig(figures=False, progress=False, free_text_queries=("someone in the kitchen",))


def test_evaluate_model_scores_and_schema():
    train, test = split_windows()
    ev = evaluate_model(FakeModel(), train, test, synthetic_home(), FAST)
    r = ev.results
    assert r["schema"] == SCHEMA and missing_keys(r) == []
    assert ev.figures == {}
    assert r["data"]["n_train"] == len(train) and r["data"]["n_test"] == len(test)
    l1, l2 = r["levels"]["l1"], r["levels"]["l2"]
    assert set(l1["methods"]) == set(METHODS) == set(l2["methods"])
    assert sorted(l2["classes"]) == ["Bathing", "Cook", "Leave_Home", "Relax", "Sleep", "Work"]
    # Windows are 2/3 in their label's room: the room-word model and the captions solve the described labels;
    # Leave_Home has no description (and no room word), so zero-shot cannot find it.
    described = [c for c in l1["classes"] if c != "Leave_Home"]
    for method in ("zeroshot", "zeroshot_knn", "caption_only"):
        recalls = [l1["methods"][method]["per_class"][c]["recall"] for c in described]
        assert np.mean(recalls) > 0.8, method
    assert l1["zeroshot_knn_k"] == 1      # several labels have a single description
    assert l1["methods"]["linear_probe"]["accuracy"] > 0.9
    assert l1["methods"]["bag_of_sensors"]["accuracy"] > 0.9
    assert l1["methods"]["majority"]["accuracy"] == pytest.approx(1 / 6)
    assert l1["methods"]["majority"]["kind"] == "baseline" and l1["methods"]["zeroshot"]["kind"] == "model"
    for level in (l1, l2):
        for m in level["methods"].values():
            assert sum(v["support"] for v in m["per_class"].values()) == len(test)
            assert 0.0 <= m["macro_f1"] <= 1.0
    # Leave_Home has no description: it falls back to its humanised name and is reported.
    assert r["label_descriptions"]["l1"]["fallback_labels"] == ["Leave_Home"]
    assert r["label_descriptions"]["l1"]["descriptions"]["Leave_Home"] == ["leave home"]
    assert any("Leave_Home" in w for w in r["warnings"])
    assert any("STATISTICS" in w for w in r["warnings"])
    assert r["label_descriptions"]["source"].startswith("written by hand")
    # Retrieval: each window's captions name its main room.
    ret = r["retrieval"]
    assert ret["caption_types"] == "long" and ret["n_windows"] == len(test)
    assert ret["sensor_to_text"]["n_queries"] == len(test)
    assert ret["text_to_sensor"]["R@10"] > 0.5
    assert l1["label_precision"]["P@5"] > 0.5
    ex = r["retrieval_examples"]
    assert ex[-1]["query"] == "someone in the kitchen" and ex[-1]["label"] is None
    assert all("kitchen" in h["rooms"] for h in ex[-1]["hits"])
    json.dumps(r, allow_nan=False)   # valid JSON, no NaN


def test_classes_without_test_windows_are_listed_not_scored():
    train, test = split_windows()
    test = test.subset(np.flatnonzero(test.label_l1 != "Bathing"))
    r = evaluate_model(FakeModel(), train, test, synthetic_home(), FAST).results
    l1 = r["levels"]["l1"]
    assert l1["classes_not_in_test"] == ["Bathing"]
    for m in l1["methods"].values():
        assert "Bathing" not in m["per_class"] and m["classes_not_scored"] == ["Bathing"]
    assert "Bathing" in l1["classes"] and l1["train_counts"]["Bathing"] > 0


def test_empty_split_is_a_user_error():
    from homeclip.errors import UserError

    train, test = split_windows()
    with pytest.raises(UserError, match="both splits"):
        evaluate_model(FakeModel(), train, test.subset([]), synthetic_home(), FAST)


def test_model_info_reports_fallbacks():
    model = FakeModel(backbone="chronos-2")
    model.meta["backbone_info"] = {"requested": "amazon/chronos-2", "used": "statistics",
                                   "fallback_reason": "no model hub"}
    model.meta["text_encoder"] = {"requested": "thenlper/gte-base", "used": "offline:all-MiniLM-L6-v2",
                                  "fallback_reason": "no model hub"}
    info = model_info(model)
    assert info["encoder_kind"] == "fake"
    assert any("FALLBACK" in w and "no model hub" in w for w in info["warnings"])
    assert any("differs from the one used in training" in w for w in info["warnings"])
    assert any("Text encoder FALLBACK at training" in w and "gte-base" in w for w in info["warnings"])
    clean = FakeModel(backbone="chronos-2")
    assert model_info(clean)["warnings"] == []
    offline = FakeModel(backbone="chronos-2")
    offline.meta["text_encoder"] = {"requested": "offline:all-MiniLM-L6-v2", "used": "offline:all-MiniLM-L6-v2"}
    offline.text_encoder.model_used = "offline:all-MiniLM-L6-v2"
    assert [w for w in model_info(offline)["warnings"] if "offline" in w and "gte-base" in w]


def test_read_training_metrics_counts_bad_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 2.0}\nnot json\n\n[1, 2]\n{"step": 2, "loss": 1.5}\n')
    records, bad = read_training_metrics(path)
    assert [r["step"] for r in records] == [1, 2] and bad == 2
    assert read_training_metrics(tmp_path / "absent.jsonl") == ([], 0)


# ---------------------------------------------------------------- end to end on real (tiny) checkpoints

def _needs(module: str):
    return pytest.importorskip(module, reason=f"{module} has not landed yet: end-to-end checks need it")


def tiny_run(tmp_path: Path, encoder: str, model_dir: Path | None = None, **config) -> dict[str, Path]:
    """Train a seconds-long model of `encoder` kind on synthetic windows; write the processed split files.

    With `model_dir` the Chronos encoder runs that (tiny, random-weight) Chronos model, fallback forbidden. The
    feature cache is the default one ($HOMECLIP_CACHE_DIR/features) unless `config` says otherwise."""
    trainer = _needs("homeclip.training.trainer")
    store = _needs("homeclip.data.store")
    from homeclip.data.vocab import build_vocab
    from homeclip.training.config import TrainConfig

    ws = random_windowset(n=96, seed=3)
    ws.split = np.where((np.arange(96) // 6) % 2 == 0, "train", "test").astype(object)
    train, test, vocab = ws.select_split("train"), ws.select_split("test"), build_vocab(ws)
    data_dir = tmp_path / "data"
    paths = {"train": data_dir / "syn_train.json", "test": data_dir / "syn_test.json",
             "vocab": data_dir / "syn_vocab.json", "run": tmp_path / f"run_{encoder}"}
    store.save_split(paths["train"], train)
    store.save_split(paths["test"], test)
    vocab.save(paths["vocab"])
    chronos = {"backbone": "statistics"} if model_dir is None else {
        "backbone": "chronos", "chronos_model_name": str(model_dir), "allow_fallback": False}
    cfg = TrainConfig(encoder=encoder, **chronos, batch_size=8, max_epochs=1, output_dim=16,
                      projection_hidden_dim=16, log_interval=2, val_interval=1000, save_interval=1000,
                      use_wandb=False, output_dir=str(paths["run"]), text_cache_dir=str(tmp_path / "text"),
                      device="cpu", transformer={"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}, **config)
    trainer.train(cfg, data=trainer.TrainData(train, None, vocab), text_encoder=FakeTextEncoder(), progress=False)
    paths["checkpoint"] = paths["run"] / "best_model.pt"
    if not paths["checkpoint"].is_file():
        paths["checkpoint"] = paths["run"] / "final_model.pt"
    return paths


@pytest.mark.parametrize("kind", ["statistics", "chronos2", "bolt", "t5", "transformer"])
def test_every_checkpoint_type_evaluates_with_the_same_call(tmp_path, kind, tiny_model_dirs, cache_root):
    from homeclip.evaluation.evaluate import evaluate_checkpoint

    encoder = "transformer" if kind == "transformer" else "chronos"
    model_dir = tiny_model_dirs.get(kind)
    p = tiny_run(tmp_path, encoder, model_dir)
    features = cache_root / "features"       # training and evaluation meet at the default cache location
    cached_before = sorted(features.rglob("*.npy"))
    out = tmp_path / "eval"
    r = evaluate_checkpoint(p["checkpoint"], p["train"], p["test"], p["vocab"], out,
                            cfg=EvalConfig(figures=False, progress=False), text_encoder=FakeTextEncoder())
    assert missing_keys(r) == [] and (out / "report.html").is_file()
    assert r["model"]["encoder_kind"] == encoder
    if encoder == "chronos":   # evaluation reuses the training's feature cache and adds the test split to it
        cached_after = sorted(features.rglob("*.npy"))
        assert cached_before and set(cached_before) < set(cached_after)
    assert r["data"]["n_test"] == 48 and r["data"]["n_train"] == 48
    assert r["sources"]["checkpoint"] == str(p["checkpoint"]) and len(r["sources"]["checkpoint_sha256"]) == 16
    assert r["sources"]["training_metrics"] is not None          # metrics.jsonl sits next to the checkpoint
    assert r["model"]["text_encoder_evaluation"]["used"] == "fake-room-words"
    if kind == "statistics":
        assert r["model"]["backbone"]["used"] == "statistics"
        assert any("STATISTICS" in w for w in r["warnings"])
    elif encoder == "chronos":   # a real Chronos model ran: its family and path are recorded, no fallback
        backbone = r["model"]["backbone"]
        assert backbone["family"] == kind and backbone["used"] == str(model_dir)
        assert backbone["fallback_reason"] is None and not any("STATISTICS" in w for w in r["warnings"])
    # The dataset's home ("synthetic") is not packaged: the no-layout fallback is announced.
    assert any("could not be loaded" in w for w in r["warnings"])
    for level in ("l1", "l2"):
        assert set(r["levels"][level]["methods"]) == set(METHODS)
    assert r["retrieval"]["text_to_sensor"]["n_queries"] > 0


def test_a_checkpoint_cannot_redirect_cache_writes(tmp_path, monkeypatch):
    """The cache folders named in a checkpoint's saved config are never used: evaluation writes caches only
    where the caller, $HOMECLIP_CACHE_DIR or the working folder's default (.cache/homeclip) say."""
    import homeclip.encoders.text as text_module
    from homeclip.evaluation.evaluate import evaluate_checkpoint
    from homeclip.training.checkpoint import load_checkpoint, save_checkpoint

    p = tiny_run(tmp_path, "chronos")
    evil = tmp_path / "outside"
    ckpt = load_checkpoint(p["checkpoint"])
    ckpt["config"].update(feature_cache_dir=str(evil / "features"), text_cache_dir=str(evil / "text"))
    save_checkpoint(p["checkpoint"], {k: v for k, v in ckpt.items() if k != "format"})
    text_dirs = []

    class RecordingTextEncoder(FakeTextEncoder):   # the checkpoint's own text encoder, built by TrainedModel
        def __init__(self, name, *, allow_fallback=True, cache_dir=None, device="cpu", backend="auto"):
            text_dirs.append(Path(cache_dir))

    monkeypatch.setattr(text_module, "TextEncoder", RecordingTextEncoder)

    def evaluate(name, **cfg):
        evaluate_checkpoint(p["checkpoint"], p["train"], p["test"], p["vocab"], tmp_path / name,
                            cfg=EvalConfig(figures=False, progress=False, **cfg))

    monkeypatch.delenv("HOMECLIP_CACHE_DIR")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    evaluate("eval_default")
    assert len(list((work / ".cache" / "homeclip" / "features").glob("*.npy"))) == 2   # train + test split
    assert text_dirs[-1] == Path(".cache") / "homeclip" / "text"
    monkeypatch.setenv("HOMECLIP_CACHE_DIR", str(tmp_path / "env"))
    evaluate("eval_env")
    assert len(list((tmp_path / "env" / "features").glob("*.npy"))) == 2 and text_dirs[-1] == tmp_path / "env" / "text"
    evaluate("eval_given", feature_cache_dir=str(tmp_path / "given"), text_cache_dir=str(tmp_path / "given_text"))
    assert len(list((tmp_path / "given").glob("*.npy"))) == 2 and text_dirs[-1] == tmp_path / "given_text"
    assert not evil.exists()


@pytest.mark.slow
def test_original_script_and_search_cli_with_the_real_text_encoder(tmp_path):
    """The original command line (thin script) and `homeclip search --json`, in fresh processes, with the real
    frozen text encoder (thenlper/gte-base, or the offline MiniLM it falls back to without a hub)."""
    _needs("homeclip.encoders.text")
    trainer = _needs("homeclip.training.trainer")
    store = _needs("homeclip.data.store")
    from homeclip.data.vocab import build_vocab
    from homeclip.training.config import TrainConfig

    ws = random_windowset(n=48, seed=4)
    ws.split = np.where((np.arange(48) // 6) % 2 == 0, "train", "test").astype(object)
    train, test = ws.select_split("train"), ws.select_split("test")
    for name, split in (("train", train), ("test", test)):
        store.save_split(tmp_path / f"syn_{name}.json", split)
    build_vocab(ws).save(tmp_path / "syn_vocab.json")
    cfg = TrainConfig(encoder="chronos", backbone="statistics", batch_size=8, max_epochs=1, output_dim=16,
                      projection_hidden_dim=16, log_interval=2, val_interval=1000, save_interval=1000,
                      use_wandb=False, output_dir=str(tmp_path / "run"), text_cache_dir=str(tmp_path / "text"),
                      feature_cache_dir=str(tmp_path / "features"), device="cpu")
    trainer.train(cfg, data=trainer.TrainData(train, None, build_vocab(ws)), progress=False)
    ckpt = tmp_path / "run" / "best_model.pt"
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HOMECLIP_CACHE_DIR": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT / "src")}   # the sources under test, whatever else is installed
    out = tmp_path / "eval"
    cmd = [sys.executable, str(ROOT / "src" / "evals" / "evaluate_embeddings.py"), "--checkpoint", str(ckpt),
           "--train_data", str(tmp_path / "syn_train.json"), "--test_data", str(tmp_path / "syn_test.json"),
           "--vocab", str(tmp_path / "syn_vocab.json"), "--output_dir", str(out), "--no-figures"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((out / "evaluation_results.json").read_text())
    assert missing_keys(results) == [] and results["model"]["encoder_kind"] == "chronos"
    assert results["model"]["text_encoder_evaluation"]["used"] == results["model"]["text_encoder_training"]["used"]
    if results["model"]["text_encoder_training"]["fallback_reason"]:
        assert any("Text encoder FALLBACK at training" in w for w in results["warnings"])
    assert "report:" in done.stdout
    search_cmd = [sys.executable, "-m", "homeclip", "search", "--checkpoint", str(ckpt), "--data",
                  str(tmp_path / "syn_test.json"), "someone cooking late at night", "-k", "4", "--json"]
    runs = [subprocess.run(search_cmd, capture_output=True, text=True, env=env, timeout=600) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    first, second = (json.loads(r.stdout) for r in runs)
    assert (first["cache_hit"], second["cache_hit"]) == (False, True)
    assert second["model_loaded"] is False                 # a repeated query needs only the caches
    assert len(second["queries"][0]["hits"]) == 4
    assert second["queries"][0]["hits"] == first["queries"][0]["hits"]
    bad = subprocess.run(cmd[:3] + [str(tmp_path / "absent.pt")] + cmd[4:], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "checkpoint not found" in bad.stderr and "Traceback" not in bad.stderr
