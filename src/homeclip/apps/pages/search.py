"""The search page (/) and its JSON twin (/api/search, /api/models, /api/health): free text, optional day and
time-of-day filters, results as a timeline of the home and as a ranked list."""
from __future__ import annotations

import datetime as _dt

from fastapi import APIRouter, Query, Request

from ...errors import UserError
from ...evaluation.search_filters import TimeFilter
from ..web import AppContext, Page

_SECONDS_PER_DAY = 86_400


def timeline(hits: list[dict]) -> list[dict]:
    """Hits grouped by the day they start on (in day order), each placed on a 24-hour track (percentages)."""
    days: dict[str, list[dict]] = {}
    for h in hits:
        start, end = _dt.datetime.fromisoformat(h["start"]), _dt.datetime.fromisoformat(h["end"])
        offset = start.hour * 3600 + start.minute * 60 + start.second
        # A window running past midnight is drawn to the end of its first day.
        length = min((end - start).total_seconds(), _SECONDS_PER_DAY - offset)
        days.setdefault(h["start"][:10], []).append({
            "rank": h["rank"], "left": 100.0 * offset / _SECONDS_PER_DAY,
            "width": max(0.4, 100.0 * length / _SECONDS_PER_DAY), "score": h["score"],
            "label": f'{h["start"][11:16]}-{h["end"][11:16]} {", ".join(h["rooms"])}'})
    return [{"day": day, "weekday": _dt.date.fromisoformat(day).strftime("%A"), "marks": marks}
            for day, marks in sorted(days.items())]


def router(context: AppContext) -> APIRouter:
    """The search routes over `context.engine`."""
    api = APIRouter()

    def run_search(q: str, model: str | None, k: int, day: str | None, start: str | None, end: str | None) -> dict:
        if context.engine is None:
            raise UserError("search is not available: no model is loaded")
        return context.engine.search(q, model=model, k=k, time_filter=TimeFilter.parse(day, start, end))

    @api.get("/", include_in_schema=False)
    def search_page(request: Request, q: str = "", model: str = "", k: int = 10, day: str = "",
                    start: str = Query("", alias="from"), end: str = Query("", alias="to")):
        form = {"q": q, "model": model, "k": k, "day": day, "from": start, "to": end}
        engine = context.engine
        values = {"form": form, "result": None, "error": None, "tracks": [],
                  "about": engine.describe() if engine is not None else None}
        if q.strip():
            try:
                values["result"] = run_search(q, model or None, k, day, start, end)
                values["tracks"] = timeline(values["result"]["hits"])
            except UserError as err:
                values["error"] = str(err)
                return context.render(request, "search.html", status_code=400, **values)
        return context.render(request, "search.html", **values)

    @api.get("/api/search")
    def api_search(q: str = Query(..., description="free text, e.g. 'someone cooking late at night'"),
                   model: str = Query("", description="model name (default: the first; see /api/models)"),
                   k: int = Query(10, description="number of windows (1-200)"),
                   day: str = Query("", description="only windows overlapping this day, YYYY-MM-DD"),
                   start: str = Query("", alias="from", description="time-of-day range start, HH:MM"),
                   end: str = Query("", alias="to", description="time-of-day range end, HH:MM (may wrap)")) -> dict:
        """Rank the served windows for a free text: hits with time, rooms, caption, labels and score."""
        return run_search(q, model or None, k, day, start, end)

    @api.get("/api/models")
    def api_models() -> dict:
        """The loaded models, the number of windows searched, their days and split files."""
        return context.engine.describe() if context.engine is not None else {"models": [], "n_windows": 0}

    @api.get("/api/health")
    def api_health() -> dict:
        """Liveness: answers once the models are loaded (the server starts only then)."""
        return {"status": "ok", "models": sorted(context.engine.entries) if context.engine is not None else []}

    return api


PAGE = Page(name="search", nav=(("Search", "/"),), router=router)
