"""The evaluation reports and the comparison page of the run (/reports, /compare and /api/reports, /api/compare).

The reports are the self-contained report.html / compare.html files `homeclip evaluate` and `compare` wrote;
they are served as they are, framed by the app's navigation. Only files the catalog found are served."""
from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from ..web import AppContext, Page


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def report_rows(context: AppContext) -> list[dict]:
    """One row per evaluation: name, links, and what was evaluated (from evaluation_results.json)."""
    rows = []
    for name, folder in context.catalog.reports.items():
        results = _read_json(folder / "evaluation_results.json")
        model, data = results.get("model", {}), results.get("data", {})
        rows.append({"name": name, "page": f"/reports/{name}", "html": f"/reports/{name}/report.html",
                     "results": f"/api/reports/{name}", "encoder": model.get("encoder_kind"),
                     "backbone": (model.get("backbone") or {}).get("used"),
                     "text_encoder": (model.get("text_encoder_evaluation") or {}).get("used"),
                     "n_test": data.get("n_test"), "created": results.get("created")})
    return rows


def router(context: AppContext) -> APIRouter:
    """The report routes over `context.catalog`."""
    api = APIRouter()

    def folder(name: str) -> Path:
        if name not in context.catalog.reports:
            raise HTTPException(404, f"no evaluation report named {name!r}")
        return context.catalog.reports[name]

    def compare_folder() -> Path:
        if context.catalog.compare is None:
            raise HTTPException(404, "this run has no comparison (homeclip compare writes one)")
        return context.catalog.compare

    @api.get("/reports", include_in_schema=False)
    def reports_page(request: Request):
        return context.render(request, "reports.html", rows=report_rows(context),
                              compare=context.catalog.compare is not None)

    @api.get("/reports/{name}", include_in_schema=False)
    def report_page(request: Request, name: str):
        folder(name)
        return context.render(request, "framed.html", heading=f"Evaluation: {name}",
                              src=f"/reports/{name}/report.html")

    @api.get("/reports/{name}/report.html", include_in_schema=False)
    def report_file(name: str):
        return FileResponse(folder(name) / "report.html", media_type="text/html")

    @api.get("/compare", include_in_schema=False)
    def compare_page(request: Request):
        compare_folder()
        return context.render(request, "framed.html", heading="Comparison", src="/compare/compare.html")

    @api.get("/compare/compare.html", include_in_schema=False)
    def compare_file():
        return FileResponse(compare_folder() / "compare.html", media_type="text/html")

    @api.get("/api/reports")
    def api_reports() -> dict:
        """The run's evaluations (links to each report and its results) and the comparison, when there is one."""
        return {"reports": report_rows(context),
                "compare": {"page": "/compare", "html": "/compare/compare.html", "results": "/api/compare"}
                if context.catalog.compare is not None else None}

    @api.get("/api/reports/{name}")
    def api_report(name: str) -> dict:
        """evaluation_results.json of one evaluation (schema: docs/evaluation.md)."""
        return _read_json(folder(name) / "evaluation_results.json")

    @api.get("/api/compare")
    def api_compare() -> dict:
        """compare.json of the run's comparison."""
        return _read_json(compare_folder() / "compare.json")

    return api


PAGE = Page(name="reports", nav=(("Reports", "/reports"), ("Comparison", "/compare")), router=router)
