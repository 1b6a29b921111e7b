"""`prepare` end to end: raw log -> processed dataset on disk, its summary, atomicity, bad input and the CLI."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from homeclip import cli
from homeclip.data import prepare as prepare_module
from homeclip.data.prepare import format_summary, prepare_dataset
from homeclip.data.store import load_dataset, load_split, read_split_json
from homeclip.data.vocab import Vocab
from homeclip.data.semantic import SEMANTIC_CATEGORIES
from homeclip.data.windows import SEED_FIELDS, SPLITS, SplitConfig, WindowConfig
from homeclip.errors import UserError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def casas_log(path: Path, days: int = 3, per_day: int = 90, bad_line: int | None = None) -> Path:
    """A small CASAS log: each day a Sleep episode at night and Cook in the morning, 40 s between events."""
    lines = []
    for d in range(days):
        day = (np.datetime64("2009-10-16") + np.timedelta64(d, "D")).astype(str)
        for i in range(per_day):
            seconds = 6 * 3600 + i * 40
            stamp = f"{day} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{i:06d}"
            sensor = ("M021", "M022", "M015", "M016")[(i // 10) % 4]
            note = {0: " Sleep begin", 29: " Sleep end", 50: " Kitchen_Activity begin",
                    80: " Kitchen_Activity end"}.get(i, "")
            lines.append(f"{stamp} {sensor} {'ON' if i % 2 == 0 else 'OFF'}{note}")
    if bad_line is not None:
        lines.insert(bad_line - 1, "2009-10-16 nonsense")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A 4-day simulated Milan log prepared with the defaults, from a fresh working directory."""
    from homeclip.data.homes import load_home
    from homeclip.data.simulate import write_simulated_log

    root = tmp_path_factory.mktemp("prep")
    raw = write_simulated_log(root / "milan_sim.txt", load_home("milan"), 4, seed=0)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        summary = prepare_dataset(raw, "milan", progress=False)
    finally:
        os.chdir(cwd)
    return root, summary


def test_default_paths_are_the_original_configs(simulated):
    root, summary = simulated
    out = root / "data" / "processed" / "casas" / "milan" / "seq50"
    assert summary["out_dir"] == str(Path("data/processed/casas/milan/seq50"))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["milan_summary.json", "milan_test.json", "milan_test.npz", "milan_train.json",
                     "milan_train.npz", "milan_val.json", "milan_val.npz", "milan_vocab.json"]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]   # no temp folders left


def test_summary_counts_are_consistent_with_the_files(simulated):
    root, summary = simulated
    out = root / summary["out_dir"]
    on_disk = json.loads((out / "milan_summary.json").read_text(encoding="utf-8"))
    assert on_disk["splits"] == summary["splits"] and on_disk["unk_counts"] == summary["unk_counts"]
    assert summary["parse_report"]["format"] == "casas" and summary["parse_report"]["n_events"] > 10_000
    assert sum(s["windows"] for s in summary["splits"].values()) == summary["n_windows"]
    assert set(summary["dropped_windows"]) >= {"crosses_into_other_split_day", "segment_shorter_than_window"}
    assert summary["config"]["window"]["stride"] == 12 and summary["config"]["window"]["default_label"] == "Other"
    days = [set(summary["days"][name]) for name in SPLITS]
    assert not (days[0] & days[1] or days[0] & days[2] or days[1] & days[2])
    for name in SPLITS:
        part = load_split(out / f"milan_{name}.json")
        assert len(part) == summary["splits"][name]["windows"] and set(part.split) == {name}
        assert set(str(d) for d in part.day) <= set(summary["days"][name])
        assert dict(zip(*np.unique(part.label_l2.astype(str), return_counts=True))) == summary["splits"][name]["label_l2"]
        assert len(part.captions) == len(part) and all(part.captions)
        assert set(part.captions[0]) == set(summary["caption_styles"])
    assert "Output:" in format_summary(summary) and "train" in format_summary(summary)


def test_vocab_is_built_on_train_only_and_unk_counted(simulated):
    root, summary = simulated
    ds = load_dataset(root / summary["out_dir"])
    vocab = ds.vocab
    assert isinstance(vocab, Vocab) and vocab.tokens["sensor"][:2] == ["<pad>", "<unk>"]
    train = ds.splits["train"]
    for name in SEED_FIELDS:
        seen = set(np.asarray(train.categories[name], dtype=object)[train.codes[name][train.mask]])
        assert set(vocab.tokens[name][2:]) == seen
    for name, fixed in SEMANTIC_CATEGORIES.items():       # the taxonomy's order, whatever train holds
        assert vocab.tokens[name] == ["<pad>", "<unk>", *fixed]
    for split in ("val", "test"):
        assert vocab.encode(ds.splits[split])[1] == summary["unk_counts"][split]


def test_companion_and_json_give_the_same_dataset(simulated):
    root, summary = simulated
    path = root / summary["out_dir"] / "milan_val.json"
    a, b = load_split(path), read_split_json(path)
    assert a.content_hash() == b.content_hash() and a.captions == b.captions
    assert list(a.label_l1) == list(b.label_l1) and a.label_fractions == b.label_fractions


def test_inline_log_with_every_strategy(tmp_path):
    raw = casas_log(tmp_path / "log.txt", days=4)
    for strategy in ("fixed_length", "fixed_duration", "presegmented"):
        cfg = WindowConfig(strategy=strategy, length=20, duration=300.0)
        summary = prepare_dataset(raw, "milan", tmp_path / strategy, window=cfg, split=SplitConfig(seed=1),
                                  progress=False)
        assert summary["n_windows"] > 0 and summary["config"]["window"]["strategy"] == strategy
        train = load_split(tmp_path / strategy / "milan_train.json")
        assert train.seq_len == 20 and train.mask[:, 0].all()
        if strategy == "presegmented":
            assert all(len(f) == 1 for f in train.label_fractions)


def test_failed_run_leaves_no_partial_dataset(tmp_path, monkeypatch):
    raw = casas_log(tmp_path / "log.txt")
    out = tmp_path / "out"
    real_save = prepare_module.save_split
    calls = []

    def failing_save(path, windows):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_save(path, windows)

    monkeypatch.setattr(prepare_module, "save_split", failing_save)
    with pytest.raises(OSError, match="disk full"):
        prepare_dataset(raw, "milan", out, window=WindowConfig(length=20), progress=False)
    assert len(calls) == 2
    assert not out.exists() or not list(out.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_reader_errors_propagate_and_skip_bad_lines_is_counted(tmp_path):
    raw = casas_log(tmp_path / "log.txt", bad_line=3)
    with pytest.raises(UserError, match=r"log\.txt:3:"):
        prepare_dataset(raw, "milan", tmp_path / "out", window=WindowConfig(length=20), progress=False)
    assert not (tmp_path / "out").exists()
    summary = prepare_dataset(raw, "milan", tmp_path / "out", window=WindowConfig(length=20), skip_bad_lines=True,
                              progress=False)
    assert summary["parse_report"]["n_skipped"] == 1 and summary["config"]["skip_bad_lines"]
    assert "1 bad lines skipped" in format_summary(summary)


def test_too_short_log_and_bad_configs_are_user_errors(tmp_path):
    raw = casas_log(tmp_path / "log.txt", days=3, per_day=10)
    with pytest.raises(UserError, match="no window could be cut"):
        prepare_dataset(raw, "milan", tmp_path / "out", progress=False)
    with pytest.raises(UserError, match="stride"):
        prepare_dataset(raw, "milan", tmp_path / "out", window=WindowConfig(stride=99), progress=False)
    with pytest.raises(UserError, match="add up to 1"):
        prepare_dataset(raw, "milan", tmp_path / "out", split=SplitConfig(ratios=(0.5, 0.5, 0.5)), progress=False)
    with pytest.raises(UserError, match="unknown home"):
        prepare_dataset(raw, "atlantis", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def run_cli(capsys):
    """Run `homeclip prepare ...` through the real entry point."""

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["prepare", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_prepare_prints_where_the_output_is(tmp_path, run_cli):
    raw = casas_log(tmp_path / "log.txt", bad_line=5)
    code, out, err = run_cli("--raw", str(raw), "--home", "milan", "--window", "20", "--stride", "10",
                             "--split", "0.5,0.25,0.25", "--chronological", "--skip-bad-lines", "--quiet",
                             "--out", str(tmp_path / "ds"))
    assert code == 0, err
    assert f"Output: {tmp_path / 'ds'}/" in out and "1 bad lines skipped" in out
    summary = json.loads((tmp_path / "ds" / "milan_summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["split"] == {"ratios": [0.5, 0.25, 0.25], "seed": 0, "chronological": True}
    assert summary["config"]["window"]["stride"] == 10
    assert summary["days"]["train"] < summary["days"]["test"]


@pytest.mark.parametrize("args, words", [
    (("--split", "0.7,0.3"), "--split expects three"),
    (("--split", "a,b,c"), "--split expects three"),
    (("--split", "0.7,0.2,0.2"), "add up to 1"),
    (("--window", "0"), "window length"),
    (("--stride", "0"), "stride"),
    (("--strategy", "fixed_duration", "--duration", "-1"), "duration"),
    (("--max-gap", "0"), "max gap"),
])
def test_cli_bad_arguments_exit_2_without_traceback(tmp_path, run_cli, args, words):
    raw = casas_log(tmp_path / "log.txt")
    code, out, err = run_cli("--raw", str(raw), "--home", "milan", "--out", str(tmp_path / "ds"), *args)
    assert code == 2 and words in err and "Traceback" not in err
    assert not (tmp_path / "ds").exists()


def test_cli_reader_error_names_file_and_line(tmp_path, run_cli):
    raw = casas_log(tmp_path / "log.txt", bad_line=4)
    code, out, err = run_cli("--raw", str(raw), "--home", "milan", "--quiet", "--out", str(tmp_path / "ds"))
    assert code == 2 and f"{raw}:4:" in err and "Traceback" not in err
    code, out, err = run_cli("--raw", str(tmp_path / "missing.txt"), "--home", "milan", "--quiet")
    assert code == 2 and "missing.txt" in err


@pytest.mark.real_data
@pytest.mark.skipif(not (DATA / "casas" / "al_smarthome" / "data.txt").is_file(),
                    reason="real data ../shared/data/casas/al_smarthome not present")
def test_real_al_smarthome_log_prepares(tmp_path):
    summary = prepare_dataset(DATA / "casas" / "al_smarthome" / "data.txt", "alsmarthome", tmp_path,
                              progress=False)
    assert summary["format"] == "casas-labelled" and summary["n_windows"] > 100
    assert load_split(tmp_path / "alsmarthome_test.json").mask.all()
