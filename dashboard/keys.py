"""Session-state keys, in one place so pages never spell them twice.

What the user chose lives in one :class:`~dashboard.view.View` under :data:`VIEW`;
widgets have their own keys (``WIDGET_*``) and mirror the view, because Streamlit drops
a widget's state on pages where the widget is not drawn.
"""

SOURCE = "source"  # DataSource: what is loaded
VIEW = "view"  # View: everything the user chose (see dashboard.view)
VIEW_KEY = "view_for"  # str: the content key of the data the view was validated for
START_VIEW = "start_view"  # View: the view when the session began, for "Reset"
SESSION_READY = "session_ready"  # bool: URL read and defaults set
URL_NOTES = "url_notes"  # list[str]: parts of a shared link that could not be applied
LANDING = "landing"  # str: the URL path of the page the session started on (it shows the link's notes)
FLASH = "flash"  # str | None: a success message to show once after a rerun
LOAD_ERROR = "load_error"  # str | None: the last data-loading error, shown on the Start page
SUGGEST_REQUEST = "suggest_request"  # bool: "Suggest weights" pressed; the Ensemble view computes and applies it
SUGGESTED = "suggested"  # AppliedSuggestion | None: the last suggestion put on the sliders
BEFORE_SUGGESTION = "before_suggestion"  # View | None: the view before it, for "Restore my weights"
SIDEBAR_TEXT = "sidebar_text"  # str: the "Loaded now" summary as last drawn (a fragment run does not redraw it)
UPLOAD_ROUND = "upload_round"  # dict[str, int]: successful loads per file widget; part of its key, so it empties
OWN_KEY = "own_key"  # str | None: the key this machine keeps the session's own data under (dashboard.kept)
OWN_KEPT = "own_kept"  # bool: whether the own data could be kept for a reload (it may be too large)
OWN_SOURCE = "own_source"  # DataSource | None: the user's own data, current or one click away on Start
OWN_VIEW = "own_view"  # View | None: the view on the user's own data when a demo was picked, for coming back
LINK_WAITING = "link_waiting"  # View | None: a shared link's view whose data is not here, kept until its models load
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
WIDGET_LANDSCAPE_CHART = "landscape"  # the landscape chart; a click on a ternary point sets the sliders there
WIDGET_SMOOTHING = "w_smoothing"  # the label smoothing ε of labels-only models (Data & models)
WIDGET_CELL_PREFIX = "cm::"  # + chart name: a confusion matrix whose cells can be clicked
WIDGET_SLICE_BY = "w_slice_by"
WIDGET_BINS = "w_bins"
WIDGET_PRESENTING = "w_presenting"  # the Ensemble page's presentation mode
WIDGET_SLICE_ALSO = "w_slice_also"  # the Slices page's columns drawn side by side with the first
WIDGET_SLICE_CHART = "w_slice_chart"  # the slices' gain chart, whose points can be clicked
LM_RUN = "lm_run"  # LMRun | None: the models and text the Language models page scored
LM_GENERATED = "lm_generated"  # dict | None: the last generation (prompt, fused text, each model's)
WIDGET_LM_POOL = "w_lm_pool"
WIDGET_LM_WEIGHT_PREFIX = "w_lm_weight::"
LAB_JOB = "lab_job"  # dashboard.build.LabJob | None: the Build lab's last run (training in the background, or done)
LAB_BV = "lab_bv"  # (demo, base) | None: the bias-variance decomposition asked for
ENTERED_COSTS = "entered_costs"  # dict[str, float]: ms per 1,000 examples the user typed, by model name
OPEN_ENSEMBLE = "open_ensemble"  # bool: a frontier point was clicked; the Cost frontier page goes to Ensemble
WIDGET_COST_PREFIX = "w_cost::"  # + model name: its cost on the Cost frontier page
WIDGET_FRONTIER_CHART = "w_frontier_chart"  # the frontier's scatter, whose points can be clicked
WIDGET_FRONTIER_PICK = "w_frontier_pick"  # the subset of the front chosen under the table
DISTILL_JOB = "distill_job"  # dashboard.jobs.Job | None: the Distill page's last run (its result a DistillReport)
COMPRESS_JOB = "compress_job"  # dashboard.jobs.Job | None: the Compress page's last run
WIDGET_STUDENT = "w_student"
WIDGET_ALPHA = "w_alpha"
WIDGET_TEMPERATURE = "w_temperature"
WIDGET_EPOCHS = "w_epochs"
WIDGET_TRANSFER = "w_transfer"  # which transfer set: a demo split, or files on this machine
WIDGET_COMPRESS_MODEL = "w_compress_model"
WIDGET_COMPRESS_METHODS = "w_compress_methods"
WIDGET_SPARSITIES = "w_sparsities"
MERGE_RUN = "merge_run"  # MergeRun | None: the models and rows the Merge page works on (None: the demo)
MERGE_CHECKED = "merge_checked"  # dict: the compatibility check's answer, per run
MERGE_CURVES = "merge_curves"  # dict: interpolation curves computed in this session, per (run, model A, model B)
MERGE_OUTCOMES = "merge_outcomes"  # dict: merges done on the page, per (run, method, weights)
WIDGET_STORE_FOLDER = "w_store_folder"  # the Prediction store page's store folder
WIDGET_STORE_MODELS = "w_store_models"  # model paths to score into the store, one a line
WIDGET_STORE_DATA = "w_store_data"  # the data file the models score
WIDGET_STORE_TEXT_COLUMN = "w_store_text_column"
WIDGET_STORE_SHARD_ROWS = "w_store_shard_rows"
WIDGET_STORE_LABELS = "w_store_labels"  # the labels file the store is evaluated against and opened with
WIDGET_STORE_BUDGET_MB = "w_store_budget_mb"  # the memory budget (MB) over which the store opens on a sample
STORE_STREAMED = "store_streamed"  # (folder, labels, StreamedEvaluation) | None: the store's streamed numbers
