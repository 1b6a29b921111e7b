"""Running the app on a real HTTP server (uvicorn): bound by us first, so a busy port is a clean error and
port 0 picks a free one; in the foreground for `homeclip serve`, in a thread for tests."""
from __future__ import annotations

import socket
import threading
import time

from ..errors import UserError

LOOPBACK = "127.0.0.1"


def bind(host: str, port: int, option: str = "--port") -> socket.socket:
    """A listening socket on host:port (port 0: any free port); UserError (naming `option`) when it cannot be
    had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only then; without it every
    # answer waits ~40 ms for a delayed ACK (Nagle), measured here as 48 ms for an empty response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({err.strerror or err}); choose another {option}") \
            from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def limit_threads(n: int) -> None:
    """Run every native thread pool of this process (torch, OpenMP, BLAS) with n threads.

    A query is one short text and one matrix-vector product: spare threads only spin, and on a shared CPU
    waking them costs more than they give. Measured on the shared 2-core machine (load ~9), 2,837 windows:
    1 thread embeds a query in ~34 ms and ranks in 0.7 ms; 2 threads take ~65 ms and 17 ms."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    threadpool_limits(n)


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
    """The app on a real uvicorn server in a thread, on 127.0.0.1 and a free port (tests, benchmarks, the
    timeline page of `homeclip watch --serve-port`).

        with BackgroundServer(app) as server:
            httpx.get(server.url + "api/health")
    """

    def __init__(self, app, host: str = LOOPBACK, port: int = 0, log_level: str = "warning",
                 option: str = "--port"):
        self.sock = bind(host, port, option)
        self.url = url_of(self.sock)
        self._server = _server(app, log_level)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                        name="homeclip-web")

    def start(self) -> "BackgroundServer":
        """Serve; returns once the server is up (UserError when it does not come up)."""
        self._thread.start()
        deadline = time.monotonic() + 30.0
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.sock.close()
                raise UserError("the web server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        self._thread.join(timeout=10.0)
        self.sock.close()

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
