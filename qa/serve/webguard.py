"""Guards in front of the web server: what the page does not need, it refuses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
REFUSED = b'{"detail": "This server takes no uploads."}'


class RefuseUploads:
    """The page has no file inputs, so Gradio's upload route answers 403 instead of storing files.

    Without this, anyone who can reach the port could fill the disk through `/gradio_api/upload`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith("/upload"):
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(REFUSED)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": REFUSED})
            return
        await self.app(scope, receive, send)
