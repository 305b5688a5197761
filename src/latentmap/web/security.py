"""What a local web app refuses before any route runs.

- **Host**: only the loopback names, the bound address and ``--allow_host`` names are
  served, so a DNS-rebinding page (``evil.example`` resolving to 127.0.0.1) gets 400
  (bound to another address with a token, any name: the token is the guard there).
- **Origin**: a state-changing request (POST, ...) whose ``Origin`` is not the server's own
  (scheme, host *and* port: another local dev server is another origin) gets 403, and one
  without a JSON body type gets 415 (an HTML form cannot send one cross-origin).
- **Token**: bound to a non-loopback address, every request needs the token printed in
  the URL (as Jupyter does); the first page load turns it into a same-site cookie named
  after the port (two apps on one machine keep their own) and drops it from the address.
- **Body size**: a request body over ``max_body`` bytes gets 413, counted as it streams.
"""

import ipaddress
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import LatentmapError

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
COOKIE = "latentmap_token"  # + "_<port>"
MAX_BODY = 1 << 20  # 1 MiB: the largest honest request (512 codes to decode) is ~100 KB
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Policy:
    """Who may talk to the server: the Host names it answers to and the token, if any."""

    hosts: list[str] | None = field(default_factory=lambda: list(LOOPBACK_NAMES))  # None: any (the token guards)
    token: str | None = None
    max_body: int = MAX_BODY

    @classmethod
    def for_server(cls, bind: str, allow_hosts: list[str] | None = None, no_token: bool = False) -> "Policy":
        """Loopback names, the bound address and ``allow_hosts``; a fresh token unless the
        server binds loopback only (or ``no_token``)."""
        for name in allow_hosts or []:
            wildcard = name.startswith("*.") and "*" not in name[2:]
            if ("*" in name and not wildcard) or not name.strip() or any(c in name for c in "/ \t?#@"):
                raise LatentmapError(
                    f"--allow_host '{name}' is not a host name: give a name like proxy.example or a "
                    "subdomain wildcard like *.example (a '*' only as the first label)"
                )
        hosts = [*LOOPBACK_NAMES, bind.strip("[]"), *(allow_hosts or [])]
        if bind in ("0.0.0.0", "::"):  # every interface: the machine's own names are fair too
            import socket

            hosts += [socket.gethostname(), socket.getfqdn()]
        token = None if is_loopback(bind) or no_token else secrets.token_urlsafe(24)
        if token is not None and not allow_hosts:
            # Reached from other machines by any name or address: a rebinding page cannot
            # guess the token, so the Host check would only get in the way.
            return cls(None, token)
        return cls(list(dict.fromkeys(h for h in hosts if h)), token)

    def allowed_host_patterns(self) -> list[str]:
        # Starlette compares the Host header without its port; IPv6 hosts arrive bracketed.
        return ["*"] if self.hosts is None else [f"[{h}]" if ":" in h else h for h in self.hosts]


def install_policy(app: Any, policy: Policy) -> None:
    """Wrap ``app`` (a FastAPI app) so every request passes ``policy`` first."""
    app.add_middleware(GuardMiddleware, policy=policy)
    # Added last, so it runs first: a foreign Host never reaches the token or the routes.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=policy.allowed_host_patterns())


async def refuse(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


async def redirect(send: Send, location: str, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode("latin-1", "replace")), (b"content-length", b"0"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def local_path(path: str) -> str:
    """A redirect target that can only be a path on this server: ``//evil.example/`` and
    ``/\\evil`` are read by browsers as other hosts, CR/LF would split the header."""
    return "/" + quote(path.lstrip("/\\"), safe="/:@!$&'()*+,;=-._~")


# The apps' pages run only their own scripts (the API docs page its one inline setup
# script) and are never framed: a framing page could overlay Save or start work by clicks.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


def security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
    ]


PAGE_HEADERS, DOCS_HEADERS = security_headers(CSP), security_headers(DOCS_CSP)  # built once, sent with every answer


def page_headers(path: str) -> list[tuple[bytes, bytes]]:
    return DOCS_HEADERS if path == "/docs" else PAGE_HEADERS


def cookie_name(scope: Scope) -> str:
    """The token cookie of the server this request reached: cookies ignore ports, so two apps
    on one machine (8000 and 8001) would otherwise overwrite each other's token."""
    server = scope.get("server") or ("", 0)
    return f"{COOKIE}_{server[1]}" if server[1] else COOKIE


def origin_of(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) with the default port filled in; None when unparsable."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def same_origin(scope: Scope, headers: dict[str, str]) -> bool:
    """The request comes from the server's own page: ``Origin`` equals the scheme, host and
    port the request itself was sent to (requests without one come from scripts or curl)."""
    if headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    scheme, _, netloc = origin.partition("://")
    theirs = origin_of(scheme.lower(), netloc) if netloc and "/" not in netloc else None
    own = origin_of(scope.get("scheme", "http"), headers.get("host", ""))
    return theirs is not None and theirs == own


def is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def body_too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request body over {limit:,} bytes")


class GuardMiddleware:
    """Origin, token and body-size checks as a plain ASGI middleware (it must see the
    body stream, which Starlette's decorator-style middleware hides)."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no route speaks it: refused before any check could be skipped
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] not in SAFE_METHODS:
            if not same_origin(scope, headers):
                await refuse(send, 403, "cross-site request refused: use the app's own page")
                return
            if not is_json(headers.get("content-type", "")):
                await refuse(send, 415, "send the request body as JSON (Content-Type: application/json)")
                return
        set_cookie: list[tuple[bytes, bytes]] = []
        if self.policy.token is not None:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            from_query = next((v for k, v in query if k == "token"), "")
            name = cookie_name(scope)
            presented = [
                from_query,
                cookie_parser(headers.get("cookie", "")).get(name, ""),
                headers.get("authorization", "").removeprefix("token ").strip(),
            ]
            if not any(self.is_token(p) for p in presented):
                await refuse(send, 403, "this server needs its token: open the URL it printed (…?token=…)")
                return
            if self.is_token(from_query):
                cookie = f"{name}={self.policy.token}; Path=/; HttpOnly; SameSite=Strict"
                set_cookie = [(b"set-cookie", cookie.encode())]
                if scope["method"] == "GET" and "text/html" in headers.get("accept", ""):
                    # A page opened from the printed URL: the cookie holds the token now, so
                    # the address bar (and any link the user shares) goes without it.
                    rest = urlencode([(k, v) for k, v in query if k != "token"])
                    location = local_path(scope.get("root_path", "") + scope["path"]) + (f"?{rest}" if rest else "")
                    await redirect(send, location, set_cookie)
                    return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.policy.max_body:
            await refuse(send, 413, body_too_large(self.policy.max_body).detail)
            return
        await self.guarded(scope, receive, send, set_cookie)

    def is_token(self, presented: str) -> bool:
        # Compared as bytes: compare_digest refuses non-ASCII text, and a URL may carry any.
        token = self.policy.token
        return bool(presented and token) and secrets.compare_digest(presented.encode(), str(token).encode())

    async def guarded(self, scope: Scope, receive: Receive, send: Send, extra: list[tuple[bytes, bytes]]) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.policy.max_body:
                    # FastAPI re-raises an HTTPException met while reading the body, so
                    # the app's own handler answers 413.
                    raise body_too_large(self.policy.max_body)
            return message

        added = [*extra, *page_headers(scope["path"])]

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        try:
            await self.app(scope, counting_receive, send_with_headers)
        except HTTPException as exc:  # raised by counting_receive outside FastAPI's handlers
            if started or exc.status_code != 413:
                raise
            await refuse(send, 413, str(exc.detail))
