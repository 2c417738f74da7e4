"""Session-state keys, in one place so pages never spell them twice.

Canonical state (what the user chose) lives under these keys; widgets have their
own keys (``WIDGET_*``) and mirror the canonical values, because Streamlit drops a
widget's state on pages where the widget is not drawn.
"""

SOURCE = "source"  # DataSource: what is loaded
INCLUDED = "included"  # list[str]: models in the ensemble, in the set's order
STRATEGY = "strategy"  # "hard" | "soft" | "geometric" | "stacking"
META = "meta"  # stacking's meta-learner
WEIGHTS = "weights"  # dict[str, float]: raw slider weight by model name
CALIBRATED = "calibrated"  # bool: combine temperature-scaled (cross-fitted) members instead of the models as loaded
COMPARE = "compare"  # str: the model whose confusion matrix sits beside the ensemble's
EXAMPLE = "example"  # int | None: selected example's row in the prediction set
START_VIEW = "start_view"  # dict: strategy/meta/weights when the session began, for "Reset"
SESSION_READY = "session_ready"  # bool: URL read and defaults set
URL_NOTES = "url_notes"  # list[str]: parts of a shared link that could not be applied
FLASH = "flash"  # str | None: a success message to show once after a rerun
LOAD_ERROR = "load_error"  # str | None: the last data-loading error, shown on the Start page
SUGGEST_REQUEST = "suggest_request"  # bool: "Suggest weights" pressed; the Ensemble view computes and applies it
SUGGESTED = "suggested"  # AppliedSuggestion | None: the last suggestion put on the sliders
BEFORE_SUGGESTION = "before_suggestion"  # dict | None: strategy and weights before it, for "Restore my weights"
SIDEBAR_TEXT = "sidebar_text"  # str: the "Loaded now" summary as last drawn (a fragment run does not redraw it)
UPLOAD_ROUND = "upload_round"  # dict[str, int]: successful loads per file widget; part of its key, so it empties
SWEEPS = "sweeps"  # (params, WeightSweeps) | None: sweeps computed on request for large data

WIDGET_STRATEGY = "w_strategy"
WIDGET_META = "w_meta"
WIDGET_COMPARE = "w_compare"
WIDGET_INCLUDED = "w_included"
WIDGET_WEIGHT_PREFIX = "w_weight::"
WIDGET_CALIBRATED = "w_calibrated"
WIDGET_SUGGEST_METHOD = "w_suggest_method"
WIDGET_SUGGEST_CALIBRATE = "w_suggest_calibrate"
WIDGET_LANDSCAPE_METRIC = "w_landscape_metric"
