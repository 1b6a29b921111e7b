"""`homeclip watch`: recognise a home's activity as it happens (docs/live.md).

  recognise.py  a window -> its activity (zero-shot over the home's label descriptions, or the probe), score
                and caption
  runner.py     the watch loop: sources -> ordering rule -> windows -> recognised rows -> timeline, console
  timeline.py   the append-only SQLite timeline (WAL, one transaction per message, resumable)
  page.py       the timeline page: a self-contained FastAPI APIRouter (JSON + HTML) over a timeline file
  web.py        a tiny app around the page for `watch --serve-port`, served by uvicorn in a thread
"""
