"""Guards in front of the web server: what the page does not need, it refuses, before Gradio parses anything.

* **Host names** (DNS rebinding): a web page whose domain is re-pointed at 127.0.0.1 becomes
  same-origin with this server and could read every article through the API. Only requests
  naming this machine are answered: loopback names, IP literals (no DNS, so nothing to
  rebind), the name given with ``--host``, and names allowed explicitly (``--allow-host``).
* **Uploads**: the page has no file inputs, so every route that takes files (``/upload``,
  ``/process_recording``, streams) answers 403, and so does any multipart body anywhere.
* **Body size**: no request body larger than MAX_BODY_BYTES is read (413), whatever its route,
  whether it states its length or is sent in chunks.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20  # a question is cut at 2,000 characters; the page's requests are a few kilobytes
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
# Gradio routes that take files or media streams; the page uses none of them.
UPLOAD_ROUTES = ("/upload", "/process_recording", "/stream/", "/run-history/connect", "/vibe-edit", "/vibe-code")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def host_name(header: bytes | None) -> str:
    """The name in a Host header, lowercased, without its port (``[::1]:7860`` → ``::1``)."""
    host = (header or b"").decode("latin-1").strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class AllowedHosts:
    """Answer only requests whose Host names this machine (see the module docstring); 403 otherwise."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str] = ()) -> None:
        self.app = app
        names = {host_name(name.encode()) for name in hosts}
        self.any_host = "*" in names
        self.suffixes = (*(name[1:] for name in names if name.startswith("*.")), ".localhost")
        self.names = LOOPBACK_NAMES | (names - WILDCARD_HOSTS)

    def allows(self, name: str) -> bool:
        """Whether a request for host ``name`` is answered ("*.example.org" in the list allows its subdomains)."""
        if self.any_host or name in self.names or name.endswith(self.suffixes):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            name = host_name(_header(scope, b"host"))
            if not self.allows(name):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await _refuse(
                    send,
                    403,
                    f"This server does not answer for the host name {name!r}. "
                    "To serve it under that name, start it with --allow-host NAME.",
                )
                return
        await self.app(scope, receive, send)


class RefuseUploads:
    """No uploads, no large bodies: file routes and multipart bodies get 403, bodies over the limit 413.

    Without this, anyone who can reach the port could fill the disk through Gradio's upload
    routes, or make it parse hundreds of megabytes before answering.
    """

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/")
        content_type = (_header(scope, b"content-type") or b"").lower()
        if any(route.rstrip("/") in path for route in UPLOAD_ROUTES) or content_type.startswith(b"multipart/"):
            await _refuse(send, 403, "This server takes no uploads.")
            return
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit() or int(length) > self.max_body:
                await _refuse(send, 413, f"Request bodies are limited to {self.max_body:,} bytes.")
                return
            await self.app(scope, receive, send)
            return
        if _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        # A chunked body states no length: read it (up to the limit) before the app sees any of it.
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body:
                await _refuse(send, 413, f"Request bodies are limited to {self.max_body:,} bytes.")
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def guard_middleware(listen_host: str, allowed_hosts: Iterable[str] = (), share: bool = False) -> list[Any]:
    """The middleware app.py puts in front of Gradio (outermost first): the host check, then the upload refusal.

    ``listen_host`` (``--host``) is allowed as a name; ``allowed_hosts`` adds names ("*" turns the
    check off); a share link's tunnel arrives as ``*.gradio.live``.
    """
    from starlette.middleware import Middleware

    hosts = [listen_host, *allowed_hosts, *(["*.gradio.live"] if share else [])]
    return [Middleware(AllowedHosts, hosts=hosts), Middleware(RefuseUploads)]  # type: ignore[arg-type]
