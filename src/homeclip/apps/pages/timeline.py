"""The live timeline of `homeclip watch` inside `homeclip serve` (/timeline and /api/timeline).

The same router `watch --serve-port` serves (apps/watch/page.py), over the timeline file named in
`AppContext.settings["timeline"]`; it is read-only, so serve and a running watch share the file safely."""
from __future__ import annotations

from fastapi import APIRouter

from ..web import AppContext, Page


def router(context: AppContext) -> APIRouter:
    """The timeline routes over `context.settings["timeline"]`."""
    from ..watch.page import timeline_router

    return timeline_router(context.settings["timeline"])


PAGE = Page(name="timeline", nav=(("Timeline", "/timeline"),), router=router)
