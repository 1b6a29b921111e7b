"""The web app factory: `create_app(context)` mounts one router per page on a FastAPI app.

A page is a `Page` (name, navigation links, `router(context) -> APIRouter`) in its own module under
`apps/pages/`; `DEFAULT_PAGES` lists them in navigation order. Every page renders through `AppContext.render`
(the shared base template, Jinja2 autoescape) and every error is answered cleanly: JSON `{"error": ...}` under
/api/, an HTML page elsewhere, never a traceback.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException

from ..errors import UserError
from .catalog import RunCatalog

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    """What the pages serve: the run's files, the loaded search engine (None: search disabled) and settings."""

    catalog: RunCatalog
    engine: Any = None                      # apps.engine.SearchEngine
    title: str = "homeclip"
    settings: dict = field(default_factory=dict)   # page-specific options (e.g. a timeline database path)
    pages: Sequence["Page"] = ()
    env: Environment = field(default_factory=lambda: Environment(
        loader=PackageLoader("homeclip.apps", "templates"), autoescape=select_autoescape(default=True)))

    def render(self, request: Request, template: str, status_code: int = 200, **values) -> HTMLResponse:
        """A page through the shared base template (navigation, title, styles)."""
        nav = [(label, path) for page in self.pages for label, path in page.nav]
        html = self.env.get_template(template).render(request=request, nav=nav, title=self.title,
                                                     path=request.url.path, **values)
        return HTMLResponse(html, status_code=status_code)


@dataclass(frozen=True)
class Page:
    """One feature of the app: its navigation links and the router that serves it."""

    name: str
    nav: tuple[tuple[str, str], ...]
    router: Callable[[AppContext], Any]


def default_pages(settings: dict | None = None) -> tuple[Page, ...]:
    """The pages of `homeclip serve`, in navigation order (the live timeline when `settings` names one)."""
    from .pages import reports, search, timeline

    return (search.PAGE, reports.PAGE) + ((timeline.PAGE,) if (settings or {}).get("timeline") else ())


def create_app(context: AppContext, pages: Sequence[Page] | None = None) -> FastAPI:
    """The FastAPI app serving `pages` (default: `default_pages()`) over `context`."""
    context.pages = tuple(pages if pages is not None else default_pages(context.settings))
    # No Swagger page: it loads its scripts from a CDN, which a local app must not need.
    app = FastAPI(title=context.title, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.context = context
    app.mount("/static", StaticFiles(packages=[("homeclip.apps", "static")]), name="static")
    for page in context.pages:
        app.include_router(page.router(context))
    _install_error_handlers(app, context)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, context: AppContext, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return context.render(request, "error.html", status_code=status, status=status, message=message)


def _install_error_handlers(app: FastAPI, context: AppContext) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, err: UserError) -> Response:
        return _error(request, context, 400, str(err))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> Response:
        message = err.detail if isinstance(err.detail, str) else "request failed"
        return _error(request, context, err.status_code, "not found" if err.status_code == 404 and
                      message == "Not Found" else message)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, err: RequestValidationError) -> Response:
        first = (err.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return _error(request, context, 422, f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> Response:
        # The server's console gets the traceback; the person at the browser gets one line.
        log.exception("unexpected error serving %s", request.url.path)
        return _error(request, context, 500, f"internal error ({type(err).__name__}); see the server's log")
