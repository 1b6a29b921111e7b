"""Setting a watch up from a checkpoint: the windowing the model was trained on, the home it watches, the
recogniser and the timeline, and the sources from their URLs."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from ...data.homes import Home, list_homes, load_home
from ...data.live.events import zone_of
from ...data.live.sources import Source, SourceOptions, open_source
from ...data.windows import DEFAULT_MAX_GAP, WindowConfig
from ...errors import UserError
from ...io import file_sha256
from .recognise import Recogniser
from .runner import Watcher, WatchSettings
from .timeline import Timeline, info_text

log = logging.getLogger(__name__)


def checkpoint_windowing(model, *, length: int | None = None, stride: int | None = None,
                         max_gap: float | None = None) -> WindowConfig:
    """The fixed-length windows of the run (its training split's windowing, when that file is still there):
    length = the model's sequence length unless given; stride and max gap as the training windows had them."""
    recorded = training_windowing(model)
    length = length or int(recorded.get("length") or model.config.get("sequence_length", 50))
    if stride is None and recorded.get("length") == length:
        stride = recorded.get("stride")
    if max_gap is None:
        max_gap = recorded.get("max_gap") or DEFAULT_MAX_GAP
    return WindowConfig(strategy="fixed_length", length=length, stride=stride, max_gap=float(max_gap)).validate()


def training_windowing(model) -> dict:
    """The windowing config recorded in the run's training split ({} when the file is gone or unreadable)."""
    from ...data.store import read_split_header

    files = (model.meta or {}).get("data_files") or {}
    train = files.get("train") if isinstance(files, dict) else None
    path = (train or {}).get("path") if isinstance(train, dict) else None
    path = path or (model.config or {}).get("train_data_path")
    if not path or not Path(path).is_file():
        return {}
    try:
        config = read_split_header(path).get("meta", {}).get("windowing", {}).get("config", {})
    except (OSError, ValueError, UserError):
        return {}
    return config if config.get("strategy") == "fixed_length" else {}


def watch_home(model, home: str | None = None, ha_storage: str | None = None) -> Home:
    """The layout of the watched home: --home (a packaged name or JSON), else the checkpoint's home when it is
    a packaged one; with Home Assistant registries, their layout overridden by that one."""
    base = load_home(home) if home else None
    trained_on = (model.meta or {}).get("home")
    if base is None and not ha_storage and trained_on in list_homes():
        base = load_home(trained_on)
    if ha_storage:
        from ...data.homes.homeassistant import home_from_registries

        return home_from_registries(ha_storage, base)
    return base if base is not None else load_home(None)


def check_home(model, home: Home, allow_cross_home: bool) -> None:
    """The evaluation's cross-home guard, for the watched home."""
    from ...evaluation.methodology import check_homes, is_semantic

    check_homes((model.meta or {}).get("home"), home.name, semantic=is_semantic(model.config),
                allow_cross_home=allow_cross_home, what="watch")


@dataclass
class WatchSetup:
    """Everything a watch runs with."""

    watcher: Watcher
    sources: list[Source]
    timeline: Timeline
    info: dict[str, str]


def client_id(timeline: str | Path, url: str) -> str:
    """A stable MQTT client id per timeline and source, so a restarted watch resumes its broker session."""
    digest = hashlib.sha256(f"{Path(timeline).resolve()}|{url}".encode()).hexdigest()[:12]
    return f"homeclip-watch-{digest}"


def set_up(model, checkpoint: str | Path, source_urls: list[str], home: Home, *, timeline: str | Path,
           window: WindowConfig, level: str = "l2", probe: str | None = None, timezone: str | None = None,
           mapping: str | None = None, hold_s: float = 0.0, keep: int = 500, ha_token_env: str | None = None,
           from_start: bool = False, mqtt_client_id: str | None = None, max_windows: int | None = None,
           idle_exit_s: float | None = None, on_row=None) -> WatchSetup:
    """A watcher over `source_urls` with `model` (the timeline is opened, the sources are not started)."""
    probe_windows = None
    if probe:
        from ...data.store import load_split

        probe_windows = load_split(probe)
    recogniser = Recogniser(model, home, level=level, probe_windows=probe_windows)
    info = {"checkpoint": str(checkpoint), "checkpoint_sha256": file_sha256(checkpoint)[:16], "home": home.name,
            "window": info_text(window.to_dict()), "method": recogniser.method, "level": level,
            "labels": info_text(recogniser.labels)}
    store = Timeline(timeline, info)
    sources = []
    for url in source_urls:
        options = SourceOptions(zone=zone_of(timezone), mapping_file=mapping, from_start=from_start,
                                client_id=mqtt_client_id or client_id(timeline, url),
                                zone_from_source=timezone is None, **({"ha_token_env": ha_token_env}
                                                                      if ha_token_env else {}))
        sources.append(open_source(url, options))
    settings = WatchSettings(window=window, keep=max(keep, window.length + 1), hold_s=hold_s, max_windows=max_windows,
                             idle_exit_s=idle_exit_s)
    return WatchSetup(Watcher(recogniser, store, home, settings, on_row=on_row), sources, store, info)
