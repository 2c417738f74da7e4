"""The Streamlit dashboard's shared pieces: the pages' list (``navigation``), the user's
choices as one value (``view``, no Streamlit), cached loaders (``caches``), what changes a
session (``actions``), UI helpers (``ui``, ``tuning``), data sources, literal text and the
host check. Pages import from here; the maths stays in ``ensemble_core``.
"""
