"""The timeline page: a self-contained FastAPI router over a timeline file (what `watch` wrote).

    from homeclip.apps.watch.page import timeline_router
    app.include_router(timeline_router("timeline.sqlite"))       # GET /timeline (HTML), GET /api/timeline (JSON)

It opens the file read-only for each request (never creating or changing it; WAL lets it read while `watch`
writes), renders through its own Jinja2 template with autoescaping (labels and captions come from logs), and
refreshes itself every few seconds without scripts. `homeclip watch --serve-port` serves it in a tiny app of its
own (web.py); `homeclip serve` can mount the same router.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from .timeline import SCHEMA, connect, read_counters, read_info, read_windows

REFRESH_S = 5
PAGE_ROWS = 100


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("homeclip.apps.watch", "templates"),
                       autoescape=select_autoescape(default=True))


def timeline_snapshot(path: str | Path, *, home: str | None = None, after_id: int = 0, limit: int = 200) -> dict:
    """What the page shows: the file's info, counters and window rows (newest first); an empty snapshot with a
    note while the file does not exist yet."""
    path = Path(path)
    empty = {"schema": SCHEMA, "timeline": str(path), "info": {}, "counters": {}, "homes": [], "windows": []}
    if not path.is_file():
        return {**empty, "note": "no timeline yet: homeclip watch has not written one"}
    try:
        conn = connect(path, readonly=True)
        try:
            return {**empty, "info": read_info(conn), "counters": read_counters(conn),
                    "homes": [h for (h,) in conn.execute("SELECT DISTINCT home FROM windows ORDER BY home")],
                    "windows": read_windows(conn, home=home, after_id=after_id, limit=limit)}
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        return {**empty, "note": f"the timeline cannot be read ({err})"}


def timeline_router(path: str | Path, *, refresh_s: int = REFRESH_S) -> APIRouter:
    """GET /timeline (HTML) and GET /api/timeline (JSON: ?home=&after_id=&limit=) over the timeline `path`."""
    router = APIRouter()
    env = _environment()

    @router.get("/api/timeline")
    def timeline_json(home: str | None = None, after_id: int = Query(0, ge=0),
                      limit: int = Query(200, ge=1, le=5000)) -> JSONResponse:
        return JSONResponse(timeline_snapshot(path, home=home, after_id=after_id, limit=limit))

    @router.get("/timeline", response_class=HTMLResponse)
    def timeline_page(request: Request, home: str | None = None) -> HTMLResponse:
        snapshot = timeline_snapshot(path, home=home, limit=PAGE_ROWS)
        html = env.get_template("timeline.html").render(snapshot=snapshot, home=home, refresh_s=refresh_s,
                                                        api=str(request.url_for("timeline_json")))
        return HTMLResponse(html)

    return router
