"""`homeclip serve`: run discovery, the engine (models loaded once, filters), every page and JSON endpoint through
FastAPI's TestClient, clean errors, and the command's own failures (one line, exit 2)."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from homeclip.apps.catalog import find_run
from homeclip.apps.engine import ModelEntry, SearchEngine
from homeclip.apps.pages.search import timeline
from homeclip.apps.web import AppContext, create_app
from homeclip.cli import main
from homeclip.errors import UserError
from homeclip.evaluation.compare import compare_runs
from homeclip.evaluation.evaluate import EvalConfig, evaluate_model, write_evaluation
from homeclip.evaluation.search import build_index
from test_evaluate import FakeModel, FakeTextEncoder, split_windows, synthetic_home, tiny_run
from test_search import PLANTED, planted_windows

GARAGE_CAPTION = "The car door and the garage workbench."


def fake_engine() -> SearchEngine:
    """The planted windows (window 17 alone in the garage) behind a model whose embeddings are known."""
    model = FakeModel()
    index = build_index(model, planted_windows(), progress=False)
    return SearchEngine([ModelEntry("fake", model, index, {"name": "fake", "encoder": "fake", "backbone": "none",
                                                           "time_of_day": False, "text_encoder": "fake"})],
                        ["planted.json"])


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run folder in the demo's layout: an evaluation report and a comparison (no model needed)."""
    root = tmp_path_factory.mktemp("served")
    train, test = split_windows(n=48)
    ev = evaluate_model(FakeModel(), train, test, synthetic_home(), EvalConfig(figures=False, progress=False))
    write_evaluation(ev, root / "eval" / "fake_eval")
    compare_runs([root / "eval" / "fake_eval"], root / "compare")
    return root


@pytest.fixture(scope="module")
def context(run_dir) -> AppContext:
    from homeclip.apps.catalog import RunCatalog

    catalog = RunCatalog(root=run_dir, models={"fake": run_dir / "fake.pt"}, data=[run_dir / "planted.json"],
                         reports={"fake_eval": run_dir / "eval" / "fake_eval"}, compare=run_dir / "compare")
    return AppContext(catalog=catalog, engine=fake_engine())


@pytest.fixture(scope="module")
def client(context) -> TestClient:
    return TestClient(create_app(context), raise_server_exceptions=False)


def test_api_search_finds_the_planted_window(client):
    r = client.get("/api/search", params={"q": "someone working in the garage", "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["n_windows"] == body["n_matching"] == 40 and body["model"] == "fake"
    first = body["hits"][0]
    assert first["index"] == PLANTED and first["rooms"] == ["garage"] and first["caption"] == GARAGE_CAPTION
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3, 4, 5]
    assert set(body["timings_ms"]) == {"embed_query", "rank", "total"}


def test_filters_keep_only_windows_of_that_day_and_time(client, context):
    summaries = context.engine.summaries
    day = summaries[PLANTED]["start"][:10]
    r = client.get("/api/search", params={"q": "garage", "k": 50, "day": day}).json()
    assert r["filters"] == {"day": day, "from": None, "to": None}
    assert r["hits"] and all(day in (h["start"][:10], h["end"][:10]) for h in r["hits"])
    assert r["n_matching"] == len(r["hits"]) < 40          # k=50 returns every matching window
    other = next(s["start"][:10] for s in summaries if day not in (s["start"][:10], s["end"][:10]))
    r2 = client.get("/api/search", params={"q": "garage", "day": other}).json()
    assert PLANTED not in [h["index"] for h in r2["hits"]]   # the planted window is not on that day
    hour = int(summaries[PLANTED]["start"][11:13])
    around = client.get("/api/search", params={"q": "garage", "from": f"{hour:02d}:00",
                                               "to": f"{(hour + 1) % 24:02d}:00"}).json()
    assert around["hits"][0]["index"] == PLANTED and around["filters"]["from"] == f"{hour:02d}:00"


def test_bad_parameters_are_clean_json_errors(client):
    cases = [({"q": "  "}, 400, "query text"), ({"q": "x", "k": 0}, 400, "k must be between"),
             ({"q": "x", "k": "many"}, 422, "k: "), ({"q": "x", "day": "31/12/2024"}, 400, "YYYY-MM-DD"),
             ({"q": "x", "from": "25:00"}, 400, "from: expected a time"),
             ({"q": "x", "model": "gpt"}, 400, "unknown model"),
             ({"q": "x", "from": "10:00", "to": "10:00"}, 400, "same time"), ({}, 422, "q: ")]
    for params, status, text in cases:
        r = client.get("/api/search", params=params)
        assert r.status_code == status, params
        assert r.headers["content-type"].startswith("application/json")
        assert list(r.json()) == ["error"] and text in r.json()["error"], (params, r.json())
        assert "Traceback" not in r.text


def test_search_page_renders_timeline_and_results(client):
    r = client.get("/", params={"q": "someone working in the garage", "k": 4})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert page.count('class="hit"') == 4 and f'data-index="{PLANTED}"' in page
    assert GARAGE_CAPTION in page and 'class="mark"' in page and 'id="timeline"' in page
    assert '<a href="/reports">Reports</a>' in page          # the shared navigation


def test_page_escapes_what_the_user_typed(client):
    r = client.get("/", params={"q": "<script>alert(1)</script>"})
    assert r.status_code == 200 and "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text


def test_page_errors_are_html_not_tracebacks(client):
    r = client.get("/", params={"q": "x", "day": "tomorrow"})
    assert r.status_code == 400 and 'id="error"' in r.text and "YYYY-MM-DD" in r.text
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert client.get("/api/no/such").json() == {"error": "not found"}


def test_reports_and_comparison_are_served(client, run_dir):
    listing = client.get("/reports")
    assert listing.status_code == 200 and 'href="/reports/fake_eval"' in listing.text
    framed = client.get("/reports/fake_eval")
    assert 'src="/reports/fake_eval/report.html"' in framed.text
    raw = client.get("/reports/fake_eval/report.html")
    assert raw.text == (run_dir / "eval" / "fake_eval" / "report.html").read_text()
    api = client.get("/api/reports").json()
    assert [row["name"] for row in api["reports"]] == ["fake_eval"] and api["compare"]["page"] == "/compare"
    assert client.get("/api/reports/fake_eval").json()["schema"] == "homeclip.evaluation/2"
    assert client.get("/compare/compare.html").text == (run_dir / "compare" / "compare.html").read_text()
    assert client.get("/api/compare").json() == json.loads((run_dir / "compare" / "compare.json").read_text())
    assert client.get("/reports/../../etc/passwd").status_code == 404
    assert client.get("/api/reports/nope").status_code == 404


def test_models_and_health(client):
    about = client.get("/api/models").json()
    assert about["n_windows"] == 40 and about["default_model"] == "fake" and about["days"]
    assert client.get("/api/health").json() == {"status": "ok", "models": ["fake"]}
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/search", "/api/models", "/api/reports"} <= set(paths) and "/" not in paths
    assert {p["name"] for p in paths["/api/search"]["get"]["parameters"]} == {"q", "model", "k", "day", "from", "to"}


def test_unexpected_errors_are_one_line(context):
    class Broken(FakeModel):
        def embed_texts(self, texts):
            raise RuntimeError("boom")

    engine = SearchEngine([ModelEntry("broken", Broken(), context.engine.entries["fake"].index, {"name": "broken"})])
    broken = TestClient(create_app(AppContext(catalog=context.catalog, engine=engine)), raise_server_exceptions=False)
    r = broken.get("/api/search", params={"q": "x"})
    assert r.status_code == 500 and r.json() == {"error": "internal error (RuntimeError); see the server's log"}


def test_timeline_places_hits_on_their_day():
    hits = [{"rank": 1, "score": 0.9, "start": "2024-01-02T06:00:00", "end": "2024-01-02T07:12:00", "rooms": ["a"]},
            {"rank": 2, "score": 0.5, "start": "2024-01-01T23:00:00", "end": "2024-01-02T01:00:00", "rooms": []}]
    rows = timeline(hits)
    assert [r["day"] for r in rows] == ["2024-01-01", "2024-01-02"] and rows[0]["weekday"] == "Monday"
    late, morning = rows[0]["marks"][0], rows[1]["marks"][0]
    assert morning["left"] == pytest.approx(25.0) and morning["width"] == pytest.approx(5.0)
    assert late["left"] + late["width"] == pytest.approx(100.0)          # clipped at midnight


def test_engine_loads_a_trained_run_once(tmp_path):
    p = tiny_run(tmp_path, "chronos")
    catalog = find_run(tmp_path)
    assert list(catalog.models) == ["run_chronos"] and catalog.data == [p["test"]]
    engine = SearchEngine.load(catalog, cache_dir=tmp_path / "cache", text_encoder=FakeTextEncoder(), progress=False)
    model = engine.entries["run_chronos"].model
    assert model.config["text_cache_dir"] is None                    # queries never land in the caption cache
    first = engine.search("someone in the kitchen", k=3)
    again = SearchEngine.load(catalog, cache_dir=tmp_path / "cache", text_encoder=FakeTextEncoder(), progress=False)
    assert again.search("someone in the kitchen", k=3)["hits"] == first["hits"]     # index from the cache
    assert engine.describe()["models"][0]["backbone"] == "statistics" and first["n_windows"] == 48
    both = SearchEngine.load(find_run(tmp_path, data=[p["test"], p["train"]]), cache_dir=tmp_path / "cache",
                             text_encoder=FakeTextEncoder(), progress=False)
    sources = {h.get("source") for h in both.search("kitchen", k=96)["hits"]}
    assert sources == {"syn_test.json", "syn_train.json"} and both.describe()["n_windows"] == 96


def test_catalog_finds_the_demo_layout(tmp_path, run_dir):
    for name in ("chronos", "transformer"):
        (tmp_path / "models" / name).mkdir(parents=True)
        (tmp_path / "models" / name / "best_model.pt").write_bytes(b"x")
        (tmp_path / "models" / name / "final_model.pt").write_bytes(b"x")
    (tmp_path / "data" / "milan").mkdir(parents=True)
    (tmp_path / "data" / "milan" / "milan_test.json").write_text("{}")
    catalog = find_run(tmp_path)
    assert list(catalog.models) == ["chronos", "transformer"]
    assert all(p.name == "best_model.pt" for p in catalog.models.values())
    assert catalog.data == [tmp_path / "data" / "milan" / "milan_test.json"]
    assert catalog.reports == {} and catalog.compare is None
    assert set(find_run(run_dir, checkpoints=[tmp_path / "models" / "chronos" / "best_model.pt"],
                        data=[tmp_path / "data" / "milan" / "milan_test.json"]).reports) == {"fake_eval"}
    with pytest.raises(UserError, match="no checkpoint"):
        find_run(tmp_path / "data")
    with pytest.raises(UserError, match="split file not found"):
        find_run(tmp_path, data=[tmp_path / "absent.json"])


def test_serve_command_errors_are_one_line(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "absent")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run folder not found" in err[0]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "best_model.pt").write_bytes(b"x")
    (tmp_path / "run" / "x_test.json").write_text("{}")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", str(tmp_path / "run"), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot listen on 127.0.0.1:{port}" in err[0]
    assert main(["serve", str(tmp_path / "run"), "--threads", "0"]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
    assert main(["serve", str(tmp_path / "run"), "--timeline", str(tmp_path)]) == 2   # a folder, not the file
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{tmp_path}: is not a file; expected the timeline database" in err[0]


def test_time_filter_rules():
    from homeclip.evaluation.search_filters import TimeFilter, summary_minutes

    s, e = summary_minutes([{"start": "2024-01-01T23:30:00", "end": "2024-01-02T00:30:00"},   # spans midnight
                            {"start": "2024-01-02T03:00:00", "end": "2024-01-02T03:20:00"},
                            {"start": "2024-01-02T12:00:00", "end": "2024-01-02T12:10:00"}])
    keep = lambda **kw: TimeFilter.parse(**kw).keep(s, e).tolist()   # noqa: E731
    assert keep() == [True, True, True]
    assert keep(day="2024-01-02") == [True, True, True] and keep(day="2024-01-01") == [True, False, False]
    assert keep(start="22:00", end="05:00") == [True, True, False]          # wraps past midnight
    assert keep(day="2024-01-01", start="22:00", end="05:00") == [True, True, False]   # that night
    assert keep(day="2024-01-02", start="22:00", end="05:00") == [False, False, False]
    assert keep(start="11:00") == [True, False, True] and keep(end="01:00") == [True, False, False]
    assert np.sum(keep(start="03:10", end="03:15")) == 1
    with pytest.raises(UserError, match="same time"):
        TimeFilter.parse(start="05:00", end="05:00")


def test_listening_socket_gets_nodelay_connections():
    from homeclip.apps.server import bind, url_of

    # asyncio sets TCP_NODELAY on accepted connections only for IPPROTO_TCP sockets (else ~40 ms per answer).
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and url_of(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()


def test_serve_mounts_the_live_timeline(run_dir, tmp_path):
    from homeclip.apps.catalog import RunCatalog
    from homeclip.apps.watch.timeline import Timeline, WindowRow
    from homeclip.data.live.events import LiveEvent

    path = tmp_path / "timeline.sqlite"
    store = Timeline(path, {"home": "milan", "method": "zeroshot", "level": "l2", "window": "{}",
                            "checkpoint_sha256": "x"})
    store.begin()
    ids = [store.add_event(LiveEvent(10**15 + i, "M001", "ON"), 1) for i in range(3)]
    store.add_window(WindowRow("", 10**15, 10**15 + 2, 3, "Cook", 0.75, "zeroshot", "Someone in the kitchen",
                               ids[-1], 9.0))
    store.commit()
    store.close()
    catalog = RunCatalog(root=run_dir, models={"fake": run_dir / "fake.pt"}, data=[run_dir / "planted.json"],
                         reports={}, compare=None)
    with_timeline = TestClient(create_app(AppContext(catalog=catalog, engine=fake_engine(),
                                                     settings={"timeline": str(path)})))
    page = with_timeline.get("/timeline")
    assert page.status_code == 200 and "Cook" in page.text and "Someone in the kitchen" in page.text
    rows = with_timeline.get("/api/timeline").json()["windows"]
    assert [(r["label"], r["n_events"]) for r in rows] == [("Cook", 3)]
    assert 'href="/timeline"' in with_timeline.get("/").text          # in the navigation
    without = TestClient(create_app(AppContext(catalog=catalog, engine=fake_engine())))
    assert without.get("/timeline").status_code == 404 and 'href="/timeline"' not in without.get("/").text
