"""Shared fixtures: no test reaches a model hub; tiny random-weight Chronos models of every family."""
from __future__ import annotations

from pathlib import Path

import pytest

from homeclip.testing import CHRONOS_FAMILIES, build_tiny_chronos


@pytest.fixture(autouse=True)
def hub_offline(monkeypatch):
    """No model hub in tests: loading a hub id fails at once instead of retrying."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def cache_root(tmp_path_factory, monkeypatch) -> Path:
    """Caches a test does not place itself go to a temporary $HOMECLIP_CACHE_DIR, never the working tree or ~."""
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("HOMECLIP_CACHE_DIR", str(root))
    return root


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory) -> dict[str, Path]:
    """family -> directory of a tiny random-weight model, for every family (built once per session)."""
    root = tmp_path_factory.mktemp("chronos_tiny")
    return {family: build_tiny_chronos(family, root / family) for family in CHRONOS_FAMILIES}
