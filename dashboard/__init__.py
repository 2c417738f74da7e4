"""The Streamlit dashboard's shared pieces: session-state keys, data sources,
cached loaders, URL sync and UI helpers. Pages import from here; the maths stays
in ``ensemble_core``.
"""
