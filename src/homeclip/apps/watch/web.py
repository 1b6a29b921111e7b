"""`watch --serve-port`: the timeline page in a tiny FastAPI app of its own (served by apps/server.py's
BackgroundServer); `homeclip serve --timeline` mounts the same router next to its other pages."""
from __future__ import annotations

from pathlib import Path


def timeline_app(path: str | Path):
    """A FastAPI app serving the timeline page at / and /timeline, its JSON at /api/timeline."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    from .page import timeline_router

    app = FastAPI(title="homeclip timeline", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(timeline_router(path))
    app.add_api_route("/", lambda: RedirectResponse("/timeline"), include_in_schema=False)
    return app
