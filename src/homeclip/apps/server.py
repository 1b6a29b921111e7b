"""Running the app on a real HTTP server (uvicorn): bound by us first, so a busy port is a clean error and
port 0 picks a free one; in the foreground for `homeclip serve`, in a thread for tests."""
from __future__ import annotations

import socket
import threading
import time

from ..errors import UserError

LOOPBACK = "127.0.0.1"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port); UserError when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({err.strerror or err}); choose another --port or --host") \
            from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """http://host:port/ of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _server(app, log_level: str):
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off"))


def serve(app, sock: socket.socket, *, log_level: str = "warning") -> None:
    """Serve until Ctrl-C (the foreground of `homeclip serve`)."""
    _server(app, log_level).run(sockets=[sock])


class BackgroundServer:
    """The app on a real uvicorn server in a thread, on 127.0.0.1 and a free port (tests, benchmarks).

        with BackgroundServer(app) as server:
            httpx.get(server.url + "api/health")
    """

    def __init__(self, app, host: str = LOOPBACK, port: int = 0, log_level: str = "warning"):
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self._server = _server(app, log_level)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "BackgroundServer":
        self._thread.start()
        deadline = time.monotonic() + 30.0
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10.0)
        self.sock.close()
