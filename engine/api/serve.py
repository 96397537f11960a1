"""Run the API alone: ``casecheck api serve [--db URL] [--host 127.0.0.1] [--port 8000] [--workers 2]``.

Several worker processes share one listening socket, bound here as a TCP socket proper
(``IPPROTO_TCP``): asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only on connections accepted
from such a socket. uvicorn's own ``--workers`` binds ``socket(AF_INET, SOCK_STREAM)`` (protocol 0), so
its workers answer every keep-alive request about 40 ms late (a response's two writes wait for the
client's delayed ACK): measured here, /health 44 ms with ``--workers 2`` against 2–6 ms with one.
"""

from __future__ import annotations

import os
import socket


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(url: str, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info",
          factory: str = "engine.api:app_from_env") -> None:
    """Serve the app ``factory`` builds (the API alone, or the web workspace with the API) on ``url``'s store."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from ..store import Store, default_url

    url = default_url(url)
    Store.open(url).close()                     # create or migrate the schema once, before the workers start
    os.environ["CASECHECK_DB"] = url            # the workers (spawned) read it in the factory
    config = uvicorn.Config(factory, factory=True, host=host, port=port, workers=workers,
                            log_level=log_level, proxy_headers=False, server_header=False,
                            access_log=log_level in ("trace", "debug", "info"))    # its lines are INFO
    sock = listening_socket(host, port)
    server = uvicorn.Server(config)
    if workers > 1:
        import inspect

        if "target" in inspect.signature(Multiprocess).parameters:      # uvicorn before 0.30
            Multiprocess(config, target=server.run, sockets=[sock]).run()
        else:
            Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])
