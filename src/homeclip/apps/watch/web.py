"""`watch --serve-port`: the timeline page in a tiny FastAPI app of its own, on uvicorn in a thread, until
`homeclip serve` mounts the same router (page.py)."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from ...errors import UserError

LOOPBACK = "127.0.0.1"


def timeline_app(path: str | Path):
    """A FastAPI app serving the timeline page at / and /timeline, its JSON at /api/timeline."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    from .page import timeline_router

    app = FastAPI(title="homeclip timeline", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(timeline_router(path))
    app.add_api_route("/", lambda: RedirectResponse("/timeline"), include_in_schema=False)
    return app


class PageServer:
    """The app on host:port (port 0: a free one) in a background thread."""

    def __init__(self, app, host: str = LOOPBACK, port: int = 0):
        import uvicorn

        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as err:
            self.sock.close()
            raise UserError(f"cannot serve the timeline on {host}:{port} ({err.strerror or err}); choose another "
                            "--serve-port") from None
        bound_host, bound_port = self.sock.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}/timeline"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name="homeclip-timeline-page")

    def start(self) -> "PageServer":
        """Serve; returns once the server is up."""
        self.thread.start()
        deadline = time.monotonic() + 30.0
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise UserError("the timeline page server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(timeout=10.0)
        self.sock.close()
