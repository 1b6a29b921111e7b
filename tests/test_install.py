"""A non-editable install works on its own (configs and templates are package data), and the original training
command still finds its config from the checkout root."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANYWHERE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache")
TOP_LEVEL = {"build", "dist", "runs", "data", "trained_models", "results", ".cache"}   # outputs, not sources


def _ignored(folder: str, names: list[str]) -> set[str]:
    return set(ANYWHERE(folder, names)) | (TOP_LEVEL & set(names) if Path(folder) == ROOT else set())


def test_original_training_command_finds_its_config_from_the_checkout_root(tmp_path):
    """`python src/training/train_chronos_clip.py --config configs/training/milan/chronos_clip.json`, verbatim: the
    config is read (the missing processed data is what stops it, with one line)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "src/training/train_chronos_clip.py", "--config",
                           "configs/training/milan/chronos_clip.json", "--train_data", str(tmp_path / "absent.json")],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "train file not found" in done.stderr and "Traceback" not in done.stderr
    assert (ROOT / "src" / "homeclip" / "configs" / "training" / "milan" / "chronos_clip.json").resolve() == \
        (ROOT / "configs" / "training" / "milan" / "chronos_clip.json").resolve()      # one copy


@pytest.mark.slow
def test_wheel_install_runs_the_demo(tmp_path):
    """pip install . into a fresh venv (dependencies from this interpreter, nothing downloaded), then
    `homeclip demo --days 3` from a folder outside the checkout (2 epochs: the install is what is tested, and the
shared CI machine is slow)."""
    src = tmp_path / "checkout"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_ignored)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The installed dependencies (torch, ...) are reused through a .pth file; the checkout is not on the path.
    (Path(purelib) / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                              "-q", str(src)], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run([str(python), "-c", "import homeclip; print(homeclip.__file__)"], capture_output=True,
                           text=True, env=env, cwd=tmp_path, check=True).stdout.strip()
    assert where.startswith(str(venv)), where           # the installed copy, not the sources
    t0 = time.perf_counter()
    command = [str(venv / "bin" / "homeclip"), "demo", "--days", "3", "--epochs", "2", "--out", str(tmp_path / "demo")]
    demo = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, cwd=tmp_path)
    seconds = time.perf_counter() - t0
    assert demo.returncode == 0, demo.stderr[-3000:]
    for name in ("chronos", "transformer"):
        report = tmp_path / "demo" / "eval" / name / "report.html"
        assert report.is_file() and (report.parent / "predictions.parquet").is_file()
    assert (tmp_path / "demo" / "compare" / "compare.html").is_file()
    assert "Headlines:" in demo.stdout and "zero-shot L1 macro-F1" in demo.stdout
    assert "INFO sentence_transformers" not in demo.stderr and "Traceback" not in demo.stderr
    assert demo.stderr.count("FALLING BACK to the offline") <= 1        # one warning per fallback
    print(f"wheel install + demo --days 3 --epochs 2: {seconds:.0f} s")
