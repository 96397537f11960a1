"""A cheap HTTP/1.1 client for load runs: one keep-alive connection per simulated client, requests written
as bytes, responses parsed by httptools (uvicorn's C parser), on uvloop when it is installed.

httpx's ``AsyncClient`` took ~5 ms of CPU per request on the VM where the server took ~6 ms: on two
shared cores the load generator stole almost half the CPU from the server it measured. This client sends
the same real requests over real sockets to a real server and hands back every response's status,
headers and body for the caller to check; it does nothing else (no redirects, cookies, pools, retries:
a dropped connection is an error the caller reports).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import urlsplit

import httptools

__all__ = ["Connection", "Response", "new_loop"]


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[bytes, bytes], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        import orjson

        return orjson.loads(self.body)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []
        self.lost: Exception | None = None

    # asyncio
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"unparsable response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("the server closed the connection")
        self._fail(self.lost)

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.headers, self.body = {}, []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(Response(self.parser.get_status_code(), self.headers, b"".join(self.body)))


class Connection:
    """One keep-alive connection to ``base`` (``http://host:port/prefix``); ``headers`` go with every
    request. Not for concurrent use: one request at a time, as one client sends them."""

    def __init__(self, base: str, headers: dict[str, str] | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        fixed = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self._protocol: _Protocol | None = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
        return protocol

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                      timeout: float = 60) -> Response:
        protocol = self._protocol
        if protocol is None or protocol.lost is not None or protocol.transport is None \
                or protocol.transport.is_closing():
            protocol = self._protocol = await self._connect()
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode("utf-8") + self._fixed
        if headers:
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("utf-8")
        if body or method in ("POST", "PUT", "PATCH"):
            head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
        protocol.waiter = asyncio.get_running_loop().create_future()
        assert protocol.transport is not None
        protocol.transport.write(head + b"\r\n" + body)
        try:
            response = await asyncio.wait_for(protocol.waiter, timeout)
        finally:
            protocol.waiter = None
        if response.headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return response

    async def post_json(self, path: str, obj: Any, headers: dict[str, str] | None = None) -> Response:
        import orjson

        return await self.request("POST", path, orjson.dumps(obj), headers)

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when installed (cheaper per request), else asyncio's."""
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:                                 # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.new_event_loop()


def run(coro: Any) -> Any:
    loop = new_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
