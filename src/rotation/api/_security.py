"""Bind policy, bearer-token check and request-body limit.

* A non-loopback bind requires a token (:func:`check_bind`), so data are never
  served to a network without authentication.
* With a token every ``/api`` request needs ``Authorization: Bearer <token>``;
  the comparison is :func:`hmac.compare_digest` (constant time, no timing oracle).
* Request bodies above ``max_body`` bytes get 413, checked on ``Content-Length``
  and, for chunked bodies, while the body is received.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

from rotation.errors import ConfigError

__all__ = ["BodyLimitMiddleware", "TokenMiddleware", "check_bind", "is_loopback", "token_ok"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); False for 0.0.0.0, :: and names."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False  # any other host name may resolve to a public interface


def check_bind(host: str, token: str | None, token_env: str = "ROTATION_API_TOKEN") -> None:
    """Refuse a non-loopback bind without a token.

    Raises
    ------
    ConfigError
        ``host`` is not loopback and ``token`` is empty.
    """
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to bind {host!r} without a token: binding a non-loopback host exposes the data to the "
            f"network. Set the environment variable {token_env} (then clients send 'Authorization: Bearer <token>') "
            "or bind 127.0.0.1."
        )


def token_ok(header: str | None, token: str) -> bool:
    """Constant-time check of an ``Authorization`` header against ``token``."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


async def _send_json(send: Any, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": raw})


class TokenMiddleware:
    """ASGI middleware: 401 for ``/api`` requests without the right bearer token."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api"):
            header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
            if not token_ok(header, self.token):
                await _send_json(send, 401, {"detail": "missing or wrong bearer token", "parameter": "Authorization"},
                                 [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """ASGI middleware: 413 when a request body exceeds ``max_body`` bytes."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app, self.max_body = app, int(max_body)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                await _send_json(send, 400, {"detail": "Content-Length is not an integer", "parameter": "Content-Length"})
                return
            if n > self.max_body:
                await _send_json(send, 413, {"detail": f"request body of {n} bytes exceeds the limit of "
                                                       f"{self.max_body} bytes", "parameter": "body"})
                return
        received = 0
        started = False

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, {"detail": f"request body exceeds the limit of {self.max_body} bytes",
                                             "parameter": "body"})
