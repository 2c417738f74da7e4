"""Language-model fusion: combine causal language models' next-token distributions.

The family's seams: :mod:`.loading` (local causal LM directories, safely; one shared
vocabulary), :mod:`.scoring` (teacher-forced next-token distributions, sliding windows),
:mod:`.pools` (linear and log-linear pools and their metrics, pure NumPy),
:mod:`.weights` (pool weights fitted on a tune split), :mod:`.reweight` (a weight move
without another pass), :mod:`.landscape` (metrics over a grid of weights),
:mod:`.disagreement` (token by token), :mod:`.generation` (fused decoding, a cache per
model), :mod:`.figures` (plotly, no Streamlit) and :mod:`.cli` (``ensemble-explorer lm``). Names are imported on first use, so that the
command line's ``--help`` loads neither NumPy nor torch.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "CausalLM": ".loading",
    "load_causal_lm": ".loading",
    "load_causal_lms": ".loading",
    "check_same_vocabulary": ".loading",
    "vocabulary_hash": ".loading",
    "LMScores": ".scoring",
    "read_documents": ".scoring",
    "score_models": ".scoring",
    "LMMetrics": ".pools",
    "FusionResult": ".pools",
    "evaluate_fusion": ".pools",
    "fuse": ".pools",
    "linear_pool": ".pools",
    "log_linear_pool": ".pools",
    "lm_metrics": ".pools",
    "token_nll": ".pools",
    "EMFit": ".weights",
    "LMWeightSuggestion": ".weights",
    "em_mixture_weights": ".weights",
    "log_linear_weights": ".weights",
    "suggest_lm_weights": ".weights",
    "LMLandscape": ".landscape",
    "weight_landscape": ".landscape",
    "Generation": ".generation",
    "Sampling": ".generation",
    "generate": ".generation",
    "generate_stream": ".generation",
    "QuickMetrics": ".reweight",
    "ReweightCache": ".reweight",
    "TokenComparison": ".disagreement",
    "token_comparison": ".disagreement",
    "most_contested": ".disagreement",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
