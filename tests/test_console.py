"""What commands show: --version, help for every option, one shared --quiet, homeclip's own log lines only,
one warning per fallback, progress bars only on a terminal, rank 0 only, control characters stripped."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

import pytest

from homeclip import __version__, console
from homeclip.cli import COMMANDS, build_parser, main


@pytest.fixture
def restore_logging(monkeypatch):
    """configure() changes process-wide logging and warnings: put them back after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = logging.getLogger("homeclip").level
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "TRANSFORMERS_NO_ADVISORY_WARNINGS"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("homeclip").setLevel(ours)


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"homeclip {__version__}"
    from importlib.metadata import version

    assert version("homeclip") == __version__            # one version: pyproject reads homeclip.__version__


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_help():
    parser = build_parser()
    missing = [a.dest for a in parser._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
    for name, sub in _subparsers(parser).items():
        missing += [f"{name} {a.option_strings or a.dest}" for a in sub._actions
                    if not a.help or a.help == argparse.SUPPRESS]
    assert missing == []
    assert set(_subparsers(parser)) == set(COMMANDS)


def test_one_quiet_for_prepare_train_evaluate_search():
    subs = _subparsers(build_parser())
    helps = set()
    for name in ("prepare", "train", "evaluate", "search"):
        action = next(a for a in subs[name]._actions if "--quiet" in a.option_strings)
        assert "-q" in action.option_strings and action.dest == "quiet"
        helps.add(action.help)
    assert len(helps) == 1
    assert subs["train"].parse_args(["--config", "c.json", "--no-progress"]).quiet   # the old spelling still works


def test_clean_strips_control_characters():
    assert console.clean("a\x1b[31mred\x07\r\n\tb\u202eevil") == "a\\x1b[31mred\\x07\\x0d\n\\x09b\\u202eevil"
    assert console.clean(3) == "3"


def test_say_cleans_log_derived_text(capsys):
    from homeclip.evaluation.search import format_hits

    result = {"n_windows": 1, "cache_hit": True, "queries_cached": 1,
              "timings": {"total_s": 0.1, "load_model_s": 0.0},
              "queries": [{"query": "q", "hits": [{"rank": 1, "score": 0.5, "start": "2024-01-01T00:00:00",
                                                   "end": "2024-01-01T00:10:00", "rooms": ["kit\x1b]0;pwned\x07"],
                                                   "label_l1": "Cook\x1b[2J", "caption": "c"}]}]}
    console.say(format_hits(result))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "Cook\\x1b[2J" in out


def test_homeclip_info_shown_third_party_info_hidden_quiet_hides_ours(restore_logging, capsys):
    console.configure()
    logging.getLogger("homeclip.x").info("ours")
    logging.getLogger("sentence_transformers.base").info("Loading SentenceTransformer model")
    logging.getLogger("sentence_transformers.base").warning("their warning")
    err = capsys.readouterr().err
    assert "INFO homeclip.x: ours" in err and "Loading" not in err and "their warning" in err
    console.configure(quiet=True)
    logging.getLogger("homeclip.x").info("ours again")
    logging.getLogger("homeclip.x").warning("still warned")
    err = capsys.readouterr().err
    assert "ours again" not in err and "still warned" in err
    assert sum(isinstance(h, console._StderrHandler) for h in logging.getLogger().handlers) == 1   # idempotent


def test_one_warning_per_fallback_as_one_line(restore_logging, capsys):
    from homeclip.encoders.backbones import BackboneFallbackWarning

    console.configure()
    for _ in range(3):   # e.g. two training runs and an evaluation meeting the same missing model
        warnings.warn("\n*** Chronos backbone 'x' is unavailable\n*** FALLING BACK", BackboneFallbackWarning)
        warnings.resetwarnings()   # libraries reset filters; the 'once per location' registry cannot be trusted
    logging.getLogger("homeclip.y").warning("same line")
    logging.getLogger("homeclip.y").warning("same line")
    err = capsys.readouterr().err
    assert err.count("FALLING BACK") == 1 and err.count("same line") == 1
    assert "warnings.warn(" not in err and ".py:" not in err          # no file:line and source echo


def test_trainer_does_not_repeat_the_encoders_fallback_warnings(tmp_path, caplog):
    from homeclip.data.vocab import build_vocab
    from homeclip.testing import HashTextEncoder, random_windowset
    from homeclip.training.config import TrainConfig
    from homeclip.training.trainer import TrainData, train

    text = HashTextEncoder()
    text.fallback_reason = "no model hub"        # the encoder itself announced this when it was built
    ws = random_windowset(48, seed=1)
    cfg = TrainConfig(backbone="statistics", batch_size=8, max_epochs=1, output_dim=8, projection_hidden_dim=8,
                      device="cpu", output_dir=str(tmp_path / "run"), feature_cache_dir=str(tmp_path / "f"),
                      text_cache_dir=str(tmp_path / "t"))
    with caplog.at_level(logging.WARNING, logger="homeclip"):
        train(cfg, data=TrainData(ws.select_split("train"), None, build_vocab(ws)), text_encoder=text, progress=False)
    assert not [r for r in caplog.records if "no model hub" in r.getMessage()]


def test_progress_only_on_a_terminal_of_rank_0(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not console.progress_enabled()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert console.progress_enabled() and not console.progress_enabled(quiet=True)
    monkeypatch.setenv("RANK", "1")
    assert not console.progress_enabled()


def test_only_rank_0_prints(restore_logging, monkeypatch, capsys):
    monkeypatch.setenv("RANK", "1")
    console.configure()
    console.say("result line")
    logging.getLogger("homeclip.z").warning("rank-1 warning")
    logging.getLogger("homeclip.z").error("rank-1 error")
    captured = capsys.readouterr()
    assert "result line" not in captured.out and "rank-1 warning" not in captured.err
    assert "rank-1 error" in captured.err
