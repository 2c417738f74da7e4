"""The host check around Streamlit's server: the rules, and the middleware on plain ASGI
scopes (the real server's handshakes are in tests/e2e/test_host_check.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from streamlit import config

from dashboard import server
from dashboard.server import HostCheckMiddleware, allowed_hosts, host_allowed, host_name, origin_allowed

LOCAL = ("127.0.0.1", "localhost")


@pytest.fixture
def options(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Streamlit's options as the middleware reads them; a test changes this dict."""
    values = {"server.allowedHosts": list(LOCAL), "server.corsAllowedOrigins": []}
    real = config.get_option
    monkeypatch.setattr(server.config, "get_option", lambda key: values[key] if key in values else real(key))
    return values


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:8501", "127.0.0.1"),
    ("LocalHost", "localhost"),
    ("localhost.:8501", "localhost"),
    ("[::1]:8501", "::1"),
    ("ens.lan", "ens.lan"),
    (None, None),
    ("", None),
    ("localhost:port", None),
    ("localhost:99999", None),
    ("user@localhost", None),
    ("localhost/path", None),
    ("localhost?x", None),
])
def test_host_name(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize(("host", "patterns", "allowed"), [
    ("127.0.0.1:8501", LOCAL, True),
    ("localhost:1234", LOCAL, True),
    ("evil.example:8501", LOCAL, False),
    ("127.0.0.1.evil.example", LOCAL, False),
    ("localhost.evil.example:8501", LOCAL, False),
    ("evil.example@127.0.0.1", LOCAL, False),
    (None, LOCAL, False),
    ("ens.lan:8501", ("ens.lan",), True),
    ("a.ens.lan", ("*.ens.lan",), True),
    ("ens.lan", ("*.ens.lan",), False),
    ("evilens.lan", ("*.ens.lan",), False),
    ("anything.example", ("*",), True),
])
def test_host_allowed(host, patterns, allowed):
    assert host_allowed(host, patterns) is allowed


def test_allowed_hosts_come_from_streamlits_option(options):
    options["server.allowedHosts"] = ["Ens.Lan.", " 127.0.0.1 "]
    assert allowed_hosts() == ("ens.lan", "127.0.0.1")


def test_an_empty_allowed_hosts_means_this_machine_not_any_host(options):
    options["server.allowedHosts"] = []
    assert allowed_hosts() == LOCAL


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("http://127.0.0.1:8501", "127.0.0.1:8501", True),
    ("https://ens.lan", "ens.lan", True),
    (None, "127.0.0.1:8501", True),  # not a browser
    ("http://evil.example:8501", "127.0.0.1:8501", False),
    ("http://localhost:3000", "localhost:8501", False),  # another page on this machine
    ("http://127.0.0.1:8501", "localhost:8501", False),
    ("null", "127.0.0.1:8501", False),
    ("file://", "127.0.0.1:8501", False),
    ("http://trusted.example", "127.0.0.1:8501", True),  # listed in server.corsAllowedOrigins
    ("http://trusted.example/", "127.0.0.1:8501", True),
])
def test_origin_allowed(options, origin, host, allowed):
    options["server.corsAllowedOrigins"] = ["http://trusted.example"]
    assert origin_allowed(origin, host) is allowed


def _call(scope: dict) -> tuple[list[dict], list[dict]]:
    """Run the middleware on one scope; returns (scopes the app saw, messages sent back)."""
    seen: list[dict] = []
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.append(scope)

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    # On a thread of its own: a browser test's Playwright may hold a running event loop in this
    # worker's main thread, and asyncio.run refuses to start inside one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, HostCheckMiddleware(app)(scope, receive, send)).result()
    return seen, sent


def _scope(kind: str, host: str | None, origin: str | None = None, path: str = "/") -> dict:
    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": kind, "path": path, "headers": headers, "method": "GET", "query_string": b""}


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/_stcore/upload_file/s/f", "/media/x.png"])
def test_http_with_a_foreign_host_is_refused_before_streamlit_sees_it(options, path):
    seen, sent = _call(_scope("http", "evil.example:8501", path=path))
    assert seen == []
    assert sent[0]["status"] == 403
    assert not any(name == b"set-cookie" for name, _ in sent[0]["headers"])
    assert b"server.allowedHosts" in sent[1]["body"]


def test_http_without_a_host_is_refused(options):
    seen, sent = _call(_scope("http", None))
    assert seen == [] and sent[0]["status"] == 403


@pytest.mark.parametrize("host", ["127.0.0.1:8501", "localhost:8501"])
def test_http_to_an_allowed_host_goes_through(options, host):
    seen, sent = _call(_scope("http", host))
    assert len(seen) == 1 and sent == []


@pytest.mark.parametrize(("host", "origin"), [
    ("evil.example:8501", "http://evil.example:8501"),  # DNS rebinding: same origin, foreign host
    ("127.0.0.1:8501", "http://evil.example"),  # cross-site WebSocket
    ("127.0.0.1:8501", "http://localhost:3000"),
])
def test_websocket_with_a_foreign_host_or_origin_is_closed_before_the_handshake(options, host, origin):
    seen, sent = _call(_scope("websocket", host, origin, path="/_stcore/stream"))
    assert seen == []
    assert sent == [{"type": "websocket.close", "code": server.POLICY_VIOLATION}]


def test_websocket_from_the_apps_own_page_goes_through(options):
    seen, sent = _call(_scope("websocket", "localhost:8501", "http://localhost:8501", path="/_stcore/stream"))
    assert len(seen) == 1 and sent == []


def test_a_lan_host_works_once_configured(options):
    scope = _scope("websocket", "ens.lan:8501", "http://ens.lan:8501", path="/_stcore/stream")
    assert _call(scope)[0] == []
    options["server.allowedHosts"] = [*LOCAL, "ens.lan"]
    assert len(_call(scope)[0]) == 1


def test_lifespan_passes_through(options):
    seen, sent = _call({"type": "lifespan"})
    assert len(seen) == 1 and sent == []
