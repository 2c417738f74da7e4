"""Serve the dashboard with the host check: ``streamlit run serve.py`` (``scripts/run-demo.sh`` does).

``app.py`` is the dashboard itself; this launcher wraps Streamlit's server so that every
request, not only the WebSocket, must name a host in ``server.allowedHosts``
(see :mod:`dashboard.server`). ``streamlit run app.py`` still works, with Streamlit's own
check on the WebSocket only.
"""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.server import HostCheckMiddleware

app = st.App("app.py", middleware=[Middleware(HostCheckMiddleware)])
