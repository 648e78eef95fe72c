"""What keeps the archive's hostile pages from acting through the app.

Every archived string is data: templates escape it (Jinja2 autoescape), a URL becomes a
link only with an http(s) scheme, and the app's own pages run no inline script and load
nothing from elsewhere. An archived page's HTML is served only from its own route, under
a `sandbox` policy (an opaque origin, no scripts, no forms, no navigation of the app) that
loads nothing at all: opening an old page must not tell its publisher, so not even its
images are fetched from the live web.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "APP_POLICY",
    "ARCHIVED_PAGE_POLICY",
    "TOKEN_COOKIE",
    "SecurityHeaders",
    "TokenGate",
    "neutralize_archived_html",
    "safe_href",
]

# The app's pages: its own stylesheet and script, frames only of its own raw-page route.
APP_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
# An archived page: sandboxed (no scripts, no same origin), nothing loaded but its own
# inline styles; framed only by the app.
ARCHIVED_PAGE_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)
TOKEN_COOKIE = "newsarchive_token"  # noqa: S105 - the cookie's name, not a secret

_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"x-dns-prefetch-control", b"off"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def safe_href(url: object) -> str | None:
    """`url` if it may be a link (http or https), else None: an archived `javascript:`
    or `data:` URL is shown as text, never made clickable."""
    if not isinstance(url, str):
        return None
    stripped = url.strip()
    try:
        scheme = urlsplit(stripped).scheme.lower()
    except ValueError:
        return None
    return stripped if scheme in ("http", "https") else None


class SecurityHeaders:
    """Adds the security headers to every response; a route that set its own
    Content-Security-Policy (the archived page's) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in _COMMON_HEADERS if h[0] not in names]
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", APP_POLICY.encode()))
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class TokenGate:
    """Every request must carry the token: `Authorization: Bearer TOKEN`, or the cookie a
    first `?token=TOKEN` visit sets (HttpOnly, SameSite=Strict), so a browser can follow
    the app's links. Compared in constant time."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, from_query = self._given(scope)
        if given is None or not hmac.compare_digest(given.encode(), self.token):
            await _refuse(send)
            return
        if not from_query:
            await self.app(scope, receive, send)
            return

        async def set_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = (f"{TOKEN_COOKIE}={given}; Path=/; HttpOnly; SameSite=Strict").encode()
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, set_cookie)

    def _given(self, scope: Scope) -> tuple[str | None, bool]:
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if authorization.lower().startswith("bearer "):
            return authorization[7:].strip(), False
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # a malformed cookie header is no token
            cookies = SimpleCookie()
        if TOKEN_COOKIE in cookies:
            return cookies[TOKEN_COOKIE].value, False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "token" in query:
            return query["token"][0], True
        return None, False


async def _refuse(send: Send) -> None:
    body = b"401: this archive needs its token (?token=... once, or Authorization: Bearer)\n"
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"www-authenticate", b"Bearer"),
                *_COMMON_HEADERS,
                (b"content-security-policy", APP_POLICY.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_REFRESH_RE = re.compile(rb"<meta\b[^>]*http-equiv\s*=\s*[\"']?\s*refresh[^>]*>", re.IGNORECASE)
_BASE_RE = re.compile(rb"<base\b[^>]*>", re.IGNORECASE)


def neutralize_archived_html(body: bytes) -> bytes:
    """An archived page as served in its frame: without the `<meta http-equiv=refresh>`
    that would move the frame to the live site on its own (a sandbox allows a frame to
    navigate itself), nor a `<base>` pointing its links elsewhere. Nothing else changes:
    the policy does the rest."""
    return _BASE_RE.sub(b"", _REFRESH_RE.sub(b"", body))
