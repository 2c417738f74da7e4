"""The dashboard's frame: every run sets up the session (a shared link's view is read
once), draws the sidebar (the pages, in sections, and what is loaded), runs the chosen
page, and writes the view back into the URL. The pages are listed once, in
:mod:`dashboard.navigation`; each lives in ``app_pages/``.
"""

import streamlit as st

from dashboard import keys as K
from dashboard.actions import current, init_session, sync_url
from dashboard.icons import APP_ICON, favicon
from dashboard.navigation import navigation
from dashboard.ui import no_data, page_header, sidebar_summary

# A favicon before st.navigation: else the browser fetches the page's :material/ icon from
# fonts.gstatic.com until the page's own (local) one below arrives (dashboard/icons.py).
st.set_page_config(page_icon=favicon(APP_ICON))
page, entries = navigation()
entry = entries[page.url_path]
st.set_page_config(page_title=f"{entry.title} · ensemble-explorer", page_icon=favicon(entry.icon), layout="wide")
if not st.session_state.get(K.SESSION_READY):
    st.session_state[K.LANDING] = entry.url_path
    init_session({key: st.query_params.get_all(key) for key in st.query_params})
with st.sidebar:
    sidebar_summary(current())
page_header(entry)
try:
    if entry.needs_data and current() is None:
        no_data()
    else:
        page.run()
finally:
    sync_url()
