"""DNS rebinding against the real server (``streamlit run serve.py``): real WebSocket
handshakes and HTTP requests with a foreign ``Host`` or ``Origin`` are refused, the
configured hosts (127.0.0.1 and localhost) work, and a Chromium that resolves
``evil.example`` to 127.0.0.1 gets neither the app nor its XSRF cookie."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

#: conftest's CHROMIUM_ARGS make the test browser resolve it to 127.0.0.1.
REBOUND_HOST = "evil.example"
XSRF_COOKIE = "_streamlit_xsrf"


def _port(server: str) -> int:
    return urlparse(server).port


def handshake(server: str, host: str, origin: str | None) -> ClientConnection:
    """A WebSocket handshake with Streamlit's stream, sent to 127.0.0.1 whatever ``host`` names."""
    sock = socket.create_connection(("127.0.0.1", _port(server)), timeout=30)
    return connect(f"ws://{host}/_stcore/stream", sock=sock, origin=origin, subprotocols=["streamlit"],
                   open_timeout=30)


def request(server: str, method: str, path: str, host: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=30)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", host)
    conn.putheader("Content-Length", "0")
    conn.endheaders()
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_configured_host_gets_a_working_session(server, name):
    host = f"{name}:{_port(server)}"
    with handshake(server, host, f"http://{host}") as ws:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        ws.send(rerun.SerializeToString())
        first = ForwardMsg()
        first.ParseFromString(ws.recv(timeout=60))
    assert first.WhichOneof("type") == "new_session"


@pytest.mark.parametrize(("host", "origin"), [
    (REBOUND_HOST, f"http://{REBOUND_HOST}"),  # DNS rebinding: the page and the socket share the foreign name
    (REBOUND_HOST, None),
    ("127.0.0.1", f"http://{REBOUND_HOST}"),  # a foreign page opening a socket to this machine
    ("localhost", "http://localhost:1"),  # another page on this machine
], ids=["rebound-host", "rebound-host-no-origin", "foreign-origin", "other-local-port"])
def test_a_foreign_host_or_origin_is_refused_at_the_handshake(server, host, origin):
    host = f"{host}:{_port(server)}"
    if origin is not None and origin.endswith(REBOUND_HOST):
        origin = f"{origin}:{_port(server)}"
    with pytest.raises(InvalidStatus) as refused, handshake(server, host, origin):
        pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"),
    ("GET", "/Ensemble"),
    ("GET", "/_stcore/health"),
    ("GET", "/_stcore/host-config"),
    ("PUT", "/_stcore/upload_file/session/file"),
    ("GET", "/media/anything.png"),
])
def test_plain_http_with_a_foreign_host_is_refused_without_a_cookie(server, method, path):
    response = request(server, method, path, f"{REBOUND_HOST}:{_port(server)}")
    assert response.status == 403
    assert response.getheader("set-cookie") is None


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_plain_http_to_a_configured_host_works(server, name):
    response = request(server, "GET", "/_stcore/health", f"{name}:{_port(server)}")
    assert response.status == 200
    assert XSRF_COOKIE in (response.getheader("set-cookie") or "")


def _socket_opens(page: Page, url: str) -> bool:
    """Whether the page's own JavaScript can open a WebSocket to ``url``."""
    return page.evaluate("""url => new Promise(resolve => {
        const ws = new WebSocket(url, ["streamlit"]);
        ws.onopen = () => { ws.close(); resolve(true); };
        ws.onerror = () => resolve(false);
    })""", url)


def test_a_rebound_name_in_the_browser_gets_no_app_and_no_cookie(browser, server):
    """The attack as a browser sees it: evil.example resolves to 127.0.0.1."""
    port = _port(server)
    rebound = f"http://{REBOUND_HOST}:{port}"
    context = browser.new_context()
    page = context.new_page()
    try:
        response = page.goto(f"{rebound}/")
        assert response.status == 403
        assert "host not allowed" in page.content()
        assert page.locator('[data-testid="stApp"]').count() == 0
        assert page.evaluate("fetch('/_stcore/health').then(r => r.status)") == 403
        assert not [c for c in context.cookies() if c["name"] == XSRF_COOKIE]

        # A page the attacker serves under the rebound name (answered here by the test,
        # since the server refuses it) cannot open the app's socket under either name.
        page.route(f"{rebound}/attack", lambda route: route.fulfill(body="<html><body>attack</body></html>",
                                                                     content_type="text/html"))
        page.goto(f"{rebound}/attack")
        assert _socket_opens(page, f"ws://{REBOUND_HOST}:{port}/_stcore/stream") is False
        assert _socket_opens(page, f"ws://127.0.0.1:{port}/_stcore/stream") is False

        # The app's own page can.
        page.goto(f"{server}/_stcore/health")
        assert _socket_opens(page, f"ws://127.0.0.1:{port}/_stcore/stream") is True
    finally:
        context.close()
