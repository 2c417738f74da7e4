"""The host check around Streamlit's server (DNS rebinding): every request must name an
allowed host, and the WebSocket must come from the app's own page.

Streamlit's ``server.allowedHosts`` is checked only on the WebSocket: the page,
``/_stcore/health`` (which sets the XSRF cookie), ``/_stcore/host-config``, uploads and
media answer any ``Host``, so a web page whose name resolves to 127.0.0.1 could still read
them. :class:`HostCheckMiddleware` applies the same list, with the same rules, to every
request, and refuses a WebSocket whose ``Origin`` is neither the host it connects to nor
one of ``server.corsAllowedOrigins`` (Streamlit's own check lets any port of localhost in).
``streamlit run serve.py`` installs it (``scripts/run-demo.sh`` does).

The list is Streamlit's own setting, so there is one place to change it
(``.streamlit/config.toml``, ``--server.allowedHosts`` or ``STREAMLIT_SERVER_ALLOWED_HOSTS``);
left empty it means 127.0.0.1 and localhost here, never "any host".
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit import config
from streamlit.logger import get_logger

#: Used when ``server.allowedHosts`` is empty (Streamlit would then accept any host).
DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")
#: Close code for a refused WebSocket handshake (policy violation); the server answers HTTP 403.
POLICY_VIOLATION = 1008

_LOGGER = get_logger(__name__)


def allowed_hosts() -> tuple[str, ...]:
    """The host names the server answers to: ``server.allowedHosts``, else :data:`DEFAULT_HOSTS`."""
    configured = tuple(h.strip().lower().rstrip(".") for h in config.get_option("server.allowedHosts") or ()
                       if h.strip())
    return configured or DEFAULT_HOSTS


def host_name(netloc: str | None) -> str | None:
    """The host name of a ``Host`` header or an origin's ``host[:port]`` (lower case, no
    port, no trailing dot); None when it is missing or malformed."""
    if not netloc:
        return None
    try:
        parts = urlsplit(f"//{netloc}")
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None or parts.path \
            or parts.query or parts.fragment:
        return None
    return parts.hostname.lower().rstrip(".")


def host_allowed(host: str | None, patterns: tuple[str, ...]) -> bool:
    """Whether a ``Host`` header names an allowed host: an exact name, ``*.domain`` for its
    subdomains, or ``*`` for any (the rules of ``server.allowedHosts``; the port is ignored)."""
    name = host_name(host)
    if name is None:
        return False
    for pattern in patterns:
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


def origin_allowed(origin: str | None, host: str | None) -> bool:
    """Whether a WebSocket's ``Origin`` may connect: the app's own page (same scheme-less
    ``host:port`` as the ``Host`` it connects to), an origin listed in
    ``server.corsAllowedOrigins``, or none at all (not a browser)."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and host is not None and parts.netloc.lower() == host.lower():
        return True
    listed = {o.strip().rstrip("/").lower() for o in config.get_option("server.corsAllowedOrigins") or ()}
    return origin.rstrip("/").lower() in listed


class HostCheckMiddleware:
    """ASGI middleware: refuse (HTTP 403, one line) any request whose ``Host`` is not an
    allowed host, and any WebSocket whose ``Origin`` is foreign (see :func:`origin_allowed`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, patterns = headers.get("host"), allowed_hosts()
        if not host_allowed(host, patterns):
            reason = (f"host not allowed; this server answers to {', '.join(patterns)} "
                      "(server.allowedHosts in .streamlit/config.toml)")
        elif scope["type"] == "websocket" and not origin_allowed(headers.get("origin"), host):
            reason = "WebSocket from another origin refused (server.corsAllowedOrigins)"
        else:
            await self.app(scope, receive, send)
            return
        _LOGGER.warning("Refused %s %s: Host=%r Origin=%r: %s", scope["type"], scope.get("path"), host,
                        headers.get("origin"), reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
        else:
            await PlainTextResponse(reason + "\n", status_code=403)(scope, receive, send)
