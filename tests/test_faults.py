"""Faults: read-only folders, a full disk, a file where a folder should be -> one sentence and exit 2 in every
command; temp files of killed runs removed by the next run (never a live run's), never taken for outputs; a
move that fails half-way leaves the old dataset; a torn metrics line resumes; control characters from a log
never reach the terminal."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from homeclip import cli
from homeclip.errors import UserError
from homeclip.io import (TEMP_PREFIX, atomic_dir, atomic_write_bytes, describe_os_error, is_temp_name,
                         remove_stale_temps, temp_target)
from homeclip.terminal import printable

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "training" / "milan" / "tiny.json"
SRC = str(ROOT / "src")


def temps_below(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if is_temp_name(p.name)]


# ------------------------------------------------------------------------------------ fault folders
@contextlib.contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False):
    """A small tmpfs at `path` (root only), optionally remounted read-only; always unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)   # never leave a mount behind
            raise AssertionError(f"{path} was still in use after the test: a file was left open")


@contextlib.contextmanager
def fault_folder(kind: str, tmp_path: Path):
    """A folder in which writing fails: read-only (a read-only tmpfs as root, a 0555 folder otherwise), full
    (a tmpfs filled to the last byte; root only), or a plain file standing where a folder is needed."""
    if kind == "read-only":
        if os.geteuid() == 0:
            with tmpfs(tmp_path / "ro", "1m", read_only=True) as d:
                yield d
        else:
            d = tmp_path / "ro"
            d.mkdir(mode=0o555)
            try:
                yield d
            finally:
                d.chmod(0o755)
    elif kind == "full":
        with tmpfs(tmp_path / "full", "256k") as d:
            with contextlib.suppress(OSError), open(d / "filler", "wb") as fh:
                while True:
                    fh.write(b"x" * 4096)
                    fh.flush()
            yield d
    else:
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder\n")
        yield blocker


# ------------------------------------------------------------------------------------ every command
@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Inputs for every command: a simulated log, a prepared dataset, a trained run, an evaluation, a zip."""
    root = tmp_path_factory.mktemp("made")
    m = SimpleNamespace(root=root, raw=root / "milan.txt", data=root / "data", run=root / "run",
                        eval=root / "eval", features=root / "features", text=root / "text", zip=root / "milan.zip")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOMECLIP_CACHE_DIR", str(root / "cache"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        assert cli.main(["simulate", "--home", "milan", "--days", "3", "--out", str(m.raw)]) == 0
        # Hour-long windows and short captions only: few distinct captions for the (slow) real text encoder.
        assert cli.main(["prepare", "--raw", str(m.raw), "--home", "milan", "--out", str(m.data), "--quiet",
                         "--strategy", "fixed_duration", "--duration", "3600"]) == 0
        m.train, m.val, m.test, m.vocab = (m.data / f"milan_{s}.json" for s in ("train", "val", "test", "vocab"))
        m.train_argv = ["--config", str(TINY), "--train_data", str(m.train), "--val_data", str(m.val),
                        "--vocab", str(m.vocab), "--device", "cpu", "--no-progress",
                        "--set", "text_model_name=offline", "--set", "max_epochs=1", "--set", "batch_size=8",
                        "--set", "caption_types=short",
                        "--set", f"text_cache_dir={m.text}", "--set", f"feature_cache_dir={m.features}"]
        assert cli.main(["train", *m.train_argv, "--output_dir", str(m.run)]) == 0
        m.ckpt = m.run / "best_model.pt"
        assert cli.main(["evaluate", "--checkpoint", str(m.ckpt), "--train_data", str(m.train), "--test_data",
                         str(m.test), "--vocab", str(m.vocab), "--output_dir", str(m.eval), "--no-figures",
                         "--cache-dir", str(m.features)]) == 0
    with zipfile.ZipFile(m.zip, "w") as zf:
        zf.writestr("milan/data", m.raw.read_text()[:2000])
    m.spec = root / "bench.json"
    m.spec.write_text(json.dumps({
        "name": "faults", "homes": [{"name": "milan", "raw": str(m.raw), "home": "milan",
                                     "window": {"strategy": "fixed_duration", "duration": 3600}}],
        "encoders": {"tiny": str(TINY)}, "protocols": ["in_home"],
        "overrides": {"text_model_name": "offline", "max_epochs": 1, "batch_size": 8, "caption_types": "short"}}))
    return m


def command_argv(name: str, m: SimpleNamespace, d: Path) -> list[str]:
    """`homeclip <name>` writing into folder `d` (everything else it needs comes from `m`)."""
    return {
        "simulate": ["simulate", "--days", "1", "--out", str(d / "log.txt")],
        "prepare": ["prepare", "--raw", str(m.raw), "--home", "milan", "--out", str(d / "ds"), "--quiet"],
        "download": ["download", "casas", "milan", "--url", m.zip.as_uri(), "--out", str(d / "milan")],
        "features": ["features", "--data", str(m.train), "--vocab", str(m.vocab), "--backbone", "statistics",
                     "--cache-dir", str(d / "features")],
        "train": ["train", *m.train_argv, "--output_dir", str(d / "run")],
        "evaluate": ["evaluate", "--checkpoint", str(m.ckpt), "--train_data", str(m.train), "--test_data",
                     str(m.test), "--vocab", str(m.vocab), "--output_dir", str(d / "eval"), "--no-figures",
                     "--cache-dir", str(m.features)],
        "compare": ["compare", str(m.eval), "--out", str(d / "compare")],
        "search": ["search", "--checkpoint", str(m.ckpt), "--data", str(m.test), "someone cooking",
                   "--cache-dir", str(d / "search")],
        "benchmark": ["benchmark", "--spec", str(m.spec), "--out", str(d / "bench")],
        "demo": ["demo", "--out", str(d / "demo"), "--days", "3"],
        # serve fails at start-up, before it listens, when its search cache cannot be written
        "serve": ["serve", "--checkpoint", str(m.ckpt), "--data", str(m.test), "--port", "0",
                  "--cache-dir", str(d / "serve")],
        "label": ["label", "--checkpoint", str(m.ckpt), "--data", str(m.test), "--budget", "3",
                  "--out", str(d / "to_label.csv"), "--cache-dir", str(m.features)],
        "watch": ["watch", "--checkpoint", str(m.ckpt), "--source", str(m.raw), "--from-start", "--idle-exit", "1",
                  "--home", "milan", "--timeline", str(d / "timeline.sqlite"), "--quiet"],
    }[name]


def test_every_command_is_covered():
    assert set(cli.COMMANDS) == {"simulate", "prepare", "download", "features", "train", "evaluate", "compare",
                                 "search", "benchmark", "demo", "serve", "label", "watch"}


@pytest.mark.parametrize("kind", ["read-only", "full", "parent-is-a-file"])
@pytest.mark.parametrize("command", cli.COMMANDS)
def test_file_system_faults_are_one_sentence_and_exit_2(made, tmp_path, capfd, monkeypatch, kind, command):
    monkeypatch.setenv("HOMECLIP_CACHE_DIR", str(made.root / "cache"))
    with fault_folder(kind, tmp_path) as d:
        capfd.readouterr()
        code = cli.main(command_argv(command, made, d))
        err = capfd.readouterr().err
        assert code == 2, err[-2000:]
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]      # after any progress bar or log line
        assert last.startswith(f"homeclip {command}: error: {d}"), last
        assert TEMP_PREFIX not in last           # the output is named, not the temp file behind it
        reason = {"read-only": ("read-only", "permission denied"), "full": ("no space left",),
                  "parent-is-a-file": ("is a file, not a folder", "already exists")}[kind]
        assert any(r in last for r in reason), last
        if d.is_dir():
            assert temps_below(d) == []          # the atomic writers removed their temp files
            if kind == "full":   # nothing half-written, no empty folders (train and features make theirs first)
                assert sorted(p.name for p in d.iterdir()) == ["filler"] or command in ("train", "features")


# ------------------------------------------------------------------------------------ atomic writers
def test_a_full_disk_leaves_the_old_file_and_no_temp(tmp_path):
    with tmpfs(tmp_path / "disk", "256k") as d:
        atomic_write_bytes(d / "out.bin", b"old")
        with pytest.raises(OSError) as err:
            atomic_write_bytes(d / "out.bin", b"x" * (1 << 20))
        assert err.value.errno == errno.ENOSPC and err.value.filename == str(d / "out.bin")
        assert (d / "out.bin").read_bytes() == b"old" and sorted(p.name for p in d.iterdir()) == ["out.bin"]
        with pytest.raises(OSError):
            with atomic_dir(d / "ds") as staging:
                (staging / "a.json").write_bytes(b"y" * (1 << 20))
        assert sorted(p.name for p in d.iterdir()) == ["out.bin"]


def test_os_errors_name_the_output_not_the_temp(tmp_path):
    temp = tmp_path / f"{TEMP_PREFIX}host-12-abcd1234.milan_train.json.tmp.json"
    assert temp_target(temp) == tmp_path / "milan_train.json"
    staged = tmp_path / f"{TEMP_PREFIX}host-12-abcd1234.ds.tmp" / "milan_vocab.json"
    assert temp_target(staged) == tmp_path / "ds" / "milan_vocab.json"
    assert describe_os_error(OSError(errno.EROFS, "Read-only file system", str(temp))) == \
        f"{tmp_path / 'milan_train.json'}: the file system is read-only (choose a writable folder)"
    assert describe_os_error(PermissionError(errno.EACCES, "Permission denied", "/x")) == "/x: permission denied"
    assert describe_os_error(OSError(errno.ENOSPC, "No space left on device")).startswith("no space left")


def test_a_move_that_fails_half_way_leaves_the_old_dataset(made, tmp_path, monkeypatch):
    import homeclip.io as hio
    from homeclip.data.prepare import prepare_dataset

    out = tmp_path / "ds"
    prepare_dataset(made.raw, "milan", out, progress=False)
    (out / "notes.txt").write_text("mine\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace, moves = os.replace, []

    def fail_on_third_move(src, dst):    # moves into the dataset folder; the rollback's own moves pass
        if Path(dst).parent == out and is_temp_name(Path(src).parent.name) and len(moves) < 3:
            moves.append(dst)
            if len(moves) == 3:
                raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(hio.os, "replace", fail_on_third_move)
    from homeclip.data.windows import SplitConfig

    with pytest.raises(OSError, match="Input/output error"):
        prepare_dataset(made.raw, "milan", out, split=SplitConfig(seed=7), progress=False)   # other content
    monkeypatch.undo()
    assert len(moves) == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before     # the old dataset, never a mix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_staged_temp_files_are_never_moved_in_as_outputs(tmp_path):
    with atomic_dir(tmp_path / "out") as staging:
        (staging / "result.json").write_text("{}")
        (staging / f"{TEMP_PREFIX}h-1-x.result.json.tmp.json").write_text("half")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["result.json"]


def test_compare_never_reads_a_killed_evaluations_staging_folder(made, tmp_path):
    import shutil

    from homeclip.evaluation.compare import find_results

    shutil.copytree(made.eval, tmp_path / "eval")
    shutil.copytree(made.eval, tmp_path / f"{TEMP_PREFIX}h-999999-x.eval2.tmp")
    assert find_results(tmp_path) == [tmp_path / "eval" / "evaluation_results.json"]


# ------------------------------------------------------------------------------------ killed runs
KILLED_PREPARE = """
import os, signal, sys
import homeclip.data.prepare as prep

def half_written(path, windows):
    with open(path, "wb") as fh:
        fh.write(b'{"schema": "homeclip.windows/1", "windows": [')
    os.kill(os.getpid(), signal.SIGKILL)

prep.save_split = half_written
prep.prepare_dataset(sys.argv[1], "milan", sys.argv[2], progress=False)
"""

LIVE_WRITER = """
import sys
from homeclip.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("being written")
    print(tmp.name, flush=True)
    sys.stdin.readline()
"""


def test_temp_files_of_a_killed_run_are_removed_by_the_next_run_never_a_live_ones(made, tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="homeclip.io")
    env = {**os.environ, "PYTHONPATH": SRC}
    out = tmp_path / "ds"
    live = subprocess.Popen([sys.executable, "-c", LIVE_WRITER, str(tmp_path / "other.txt")], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        live_temp = tmp_path / live.stdout.readline().strip()
        assert live_temp.is_file() and is_temp_name(live_temp.name)
        killed = subprocess.run([sys.executable, "-c", KILLED_PREPARE, str(made.raw), str(out)], env=env,
                                capture_output=True, text=True, timeout=300)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        left = [p for p in temps_below(tmp_path) if p != live_temp]
        assert left and live_temp.is_file() and not out.exists()
        assert cli.main(["prepare", "--raw", str(made.raw), "--home", "milan", "--out", str(out), "--quiet"]) == 0
        assert live_temp.is_file()                                  # another live run's temp is kept
        assert [p for p in temps_below(tmp_path) if p != live_temp] == []
        assert "left in" in caplog.text and "by an interrupted run" in caplog.text
    finally:
        live.communicate("\n", timeout=60)
    assert live.returncode == 0 and (tmp_path / "other.txt").read_text() == "being written"
    assert temps_below(tmp_path) == []
    # made.data also holds the record of the runs that used it (homeclip_runs.jsonl, written by training)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in made.data.iterdir()
                                                           if p.name != "homeclip_runs.jsonl")


def test_stale_temps_of_another_machine_go_by_age_only(tmp_path):
    fresh = tmp_path / f"{TEMP_PREFIX}otherhost-1-abcd.x.json.tmp.json"
    old = tmp_path / f"{TEMP_PREFIX}otherhost-2-abcd.y.json.tmp.json"
    for p in (fresh, old):
        p.write_text("?")
    os.utime(old, (0, 0))
    mine = tmp_path / "output.json"
    mine.write_text("{}")
    assert remove_stale_temps(tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "output.json"])


# ------------------------------------------------------------------------------------ torn metrics
def test_a_torn_last_metrics_line_is_dropped_with_a_warning_on_resume(tmp_path, caplog):
    from homeclip.testing import HashTextEncoder
    from homeclip.training.trainer import train
    from test_trainer import tiny_config, tiny_data

    data = tiny_data()
    full = tiny_config(tmp_path / "a", save_interval=4)
    train(full, data=data, text_encoder=HashTextEncoder(), progress=False)
    part = tiny_config(tmp_path / "b", save_interval=4)

    def crash_at_step_6(step):
        if step == 6:
            raise KeyboardInterrupt    # killed after checkpoint_step_4.pt
    with pytest.raises(KeyboardInterrupt):
        train(part, data=data, text_encoder=HashTextEncoder(), progress=False, on_step=crash_at_step_6)
    metrics = tmp_path / "b" / "run" / "metrics.jsonl"
    with open(metrics, "a", encoding="utf-8") as fh:
        fh.write('{"step": 6, "epoch": 1.0, "lo')              # a crash in the middle of a write
    result = train(part, data=data, text_encoder=HashTextEncoder(), progress=False, resume="auto")
    assert result.steps == 12
    assert "dropped 1 unreadable line(s)" in caplog.text
    assert metrics.read_text().splitlines() == (tmp_path / "a" / "run" / "metrics.jsonl").read_text().splitlines()


# ------------------------------------------------------------------------------------ terminal output
def test_printable_makes_every_control_character_visible():
    assert printable("Cook\x1b[2J\rfake\x07") == "Cook\\x1b[2J\\x0dfake\\x07"
    assert printable("a\u202eb\u2066c\x85d\ud800") == "a\\u202eb\\u2066c\\x85d\\ud800"
    assert printable("Kitchen_Activity, 23:59 — ok") == "Kitchen_Activity, 23:59 — ok"


def test_log_strings_reach_the_terminal_without_control_characters(capsys):
    from homeclip.data.prepare import format_summary
    from homeclip.evaluation.search import format_hits

    summary = {"home": "milan", "raw": "log\x1b]0;owned\x07.txt", "format": "casas",
               "parse_report": {"n_events": 5, "n_numeric": 0, "n_skipped": 0, "n_out_of_order": 0},
               "dropped_windows": {}, "n_windows": 1, "config": {"window": {"strategy": "fixed_length", "length": 50}},
               "splits": {"train": {"windows": 1, "days": 1, "label_l2": {"Cook\x1b[31m": 1}}},
               "unk_counts": {"val": {}}, "out_dir": "out", "files": {"train": "milan_train.json"}}
    hits = {"queries": [{"query": "q\r", "hits": [{"rank": 1, "score": 0.5, "start": "2009-10-16T00:00:00",
                                                   "end": "2009-10-16T00:01:00", "rooms": ["kitchen\x1b[8m"],
                                                   "label_l1": "Cook\u202e", "caption": "x\x00y"}]}],
            "n_windows": 1, "cache_hit": True, "queries_cached": 1, "timings": {"total_s": 0.0, "load_model_s": 0.0}}
    for text in (format_summary(summary), format_hits(hits)):
        assert not any(ord(c) < 32 and c != "\n" or 0x7f <= ord(c) < 0xa0 or c == "\u202e" for c in text), text
    assert "Cook\\x1b[31m" in format_summary(summary) and "x\\x00y" in format_hits(hits)

    class Noisy:
        @staticmethod
        def run(args):
            raise UserError("found state 'ON\x1b[2J'", path="log.txt", line=3)

    assert cli.run_command(Noisy, None, "homeclip prepare") == 2
    assert capsys.readouterr().err == "homeclip prepare: error: log.txt:3: found state 'ON\\x1b[2J'\n"
