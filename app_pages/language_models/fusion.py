"""Language models: fuse causal LMs' next-token distributions, measure, tune and generate."""

import contextlib

import pandas as pd
import streamlit as st

from dashboard import keys as K
from dashboard.lm import DEFAULT_MAX_TOKENS, cached_landscape, cached_suggestion, lm_run, models_for, scored_for, \
    token_context
from dashboard.text import literal
from dashboard.ui import CHART_CONFIG, fragment, local_root_note, percent, user_errors
from dashboard.view import WEIGHT_MAX, WEIGHT_STEP
from ensemble_core import EnsembleInputError
from ensemble_core.lm import Sampling, generate_stream, most_contested, token_comparison
from ensemble_core.lm.figures import simplex_figure, weight_curve_figure
from ensemble_core.registry import LM_POOL_SPECS, LM_POOLS

POOL_LABELS = {spec.name: spec.label for spec in LM_POOL_SPECS}
POOL_HELP = {spec.name: spec.help for spec in LM_POOL_SPECS}
ss = st.session_state
#: Contested tokens listed.
CONTESTED = 20


def _weight_key(name: str) -> str:
    return K.WIDGET_LM_WEIGHT_PREFIX + name


def _score() -> None:
    with user_errors():
        run = lm_run(ss["lm_dirs"].splitlines(), ss["lm_text"], ss["lm_column"], ss["lm_max_tokens"])
        scored_for(run)  # errors (bad files, mismatched tokenizers) show here, before the run is kept
        ss[K.LM_RUN] = run
        ss[K.LM_GENERATED] = None


def _apply(weights: dict[str, float]) -> None:
    for name, w in weights.items():
        ss[_weight_key(name)] = round(min(WEIGHT_MAX, max(0.0, w * len(weights))), 1)


with st.form("lm_inputs"):
    st.text_area("Model directories, one per line", key="lm_dirs", height=90,
                 help="Local directories saved with save_pretrained (config.json, model.safetensors, tokenizer "
                 "files); safetensors only, no remote code. Models to fuse must share one tokenizer.")
    left, mid, right = st.columns([3, 1, 1])
    left.text_input("Evaluation text", key="lm_text",
                    help="A .txt file (one document per line) or a CSV/Parquet file with a text column.")
    mid.text_input("Text column", key="lm_column", placeholder="text", help="For CSV/Parquet.")
    right.number_input("Tokens at most", 100, 1_000_000, DEFAULT_MAX_TOKENS, step=1000, key="lm_max_tokens")
    st.form_submit_button("Score", icon=":material/play_arrow:", on_click=_score)
local_root_note()

run = ss.get(K.LM_RUN)
if run is None:
    st.info("Give two or more model directories and a text, then press Score.", icon=":material/info:")
    st.stop()
models = models_for(run)
scored = scored_for(run)
scores = scored.scores
names = scores.names
st.caption(f"{scores.n_documents:,} documents, {scores.n_tokens:,} tokens scored, "
           f"{int(scores.n_bytes.sum()):,} bytes; stride/context: "
           + literal(", ".join(f"{m.name} {s}/{m.context}" for m, s in zip(models, scores.strides))))


@fragment
def fusion_view() -> None:
    """Everything the weights and the pool drive: a slider move reruns only this."""
    controls, results = st.columns([1.2, 2.4], gap="large")
    with controls:
        pool = st.radio("Pool", LM_POOLS, format_func=POOL_LABELS.get, key=K.WIDGET_LM_POOL, horizontal=True)
        st.caption(POOL_HELP[pool])
        for name in names:
            ss.setdefault(_weight_key(name), 1.0)
            st.slider(literal(name), 0.0, WEIGHT_MAX, step=WEIGHT_STEP, key=_weight_key(name), format="%.1f")
    weights = [float(ss[_weight_key(n)]) for n in names]
    with results:
        quick = None
        with user_errors():
            quick = scored.reweight.metrics(weights, pool)
        if quick is None:
            return
        alone = scored.alone[pool]
        best = min(alone, key=lambda n: alone[n].perplexity)
        cols = st.columns(3)
        cols[0].metric("Fused perplexity", f"{quick.perplexity:.3f}",
                       f"{quick.perplexity - alone[best].perplexity:+.3f} vs {literal(best)}", delta_color="inverse",
                       help="exp of the mean negative log-likelihood per token; lower is better."
                       + ("" if quick.perplexity_bounds[0] == quick.perplexity_bounds[1] else
                          f" Shown live within {100 * quick.max_relative_error:.3f} % of the exact value "
                          f"({quick.perplexity_bounds[0]:.3f} to {quick.perplexity_bounds[1]:.3f}); "
                          "`ensemble-explorer lm evaluate` gives it exactly."))
        cols[1].metric("Bits per byte", f"{quick.bits_per_byte:.4f}")
        cols[2].metric("Top-1 accuracy", percent(quick.accuracy))
        table = pd.DataFrame(
            [{"model": f"fused ({pool})", "weight": None, "perplexity": quick.perplexity,
              "bits per byte": quick.bits_per_byte, "accuracy": quick.accuracy,
              "parameters": sum(m.n_parameters for m in models)}]
            + [{"model": n, "weight": w, "perplexity": alone[n].perplexity, "bits per byte": alone[n].bits_per_byte,
                "accuracy": alone[n].accuracy, "parameters": m.n_parameters}
               for n, w, m in zip(names, quick.weights, models)])
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "weight": st.column_config.NumberColumn("weight (normalised)", format="%.3f"),
            "parameters": st.column_config.NumberColumn(format="localized"),
            "perplexity": st.column_config.NumberColumn(format="%.3f"),
            "bits per byte": st.column_config.NumberColumn(format="%.4f"),
            "accuracy": st.column_config.NumberColumn(format="%.4f"),
        })
        if len(names) in (2, 3):
            land = cached_landscape(run, pool, scored)
            draw = weight_curve_figure if len(names) == 2 else simplex_figure
            suggested = None
            if ss.get("lm_suggested") == pool:
                with contextlib.suppress(EnsembleInputError):  # shown below, in its own section
                    suggested = [cached_suggestion(run, pool, scored).weights[n] for n in names]
            st.plotly_chart(draw(land, current=list(quick.weights), suggested=suggested), width="stretch",
                            config=CHART_CONFIG)

    st.subheader("Weights that hold up", divider="gray")
    # A callback, so that the run it starts draws the suggestion on the weight curve above too.
    st.button("Suggest weights", icon=":material/auto_fix_high:", key="lm_suggest", on_click=ss.__setitem__,
              args=("lm_suggested", pool))
    if ss.get("lm_suggested") == pool:
        with user_errors():
            s = cached_suggestion(run, pool, scored)
            st.markdown(f"Fitted on {s.tune_documents:,} documents ({'EM' if pool == 'linear' else 'least NLL'}), "
                        f"measured on the other {s.heldout_documents:,}:")
            held = pd.DataFrame(
                [{"on held-out documents": "suggested weights", "perplexity": s.heldout.perplexity,
                  "bits per byte": s.heldout.bits_per_byte, "accuracy": s.heldout.accuracy},
                 {"on held-out documents": "equal weights", "perplexity": s.uniform.perplexity,
                  "bits per byte": s.uniform.bits_per_byte, "accuracy": s.uniform.accuracy}]
                + [{"on held-out documents": f"{n} alone", "perplexity": m.perplexity,
                    "bits per byte": m.bits_per_byte, "accuracy": m.accuracy} for n, m in s.models.items()])
            st.dataframe(held, hide_index=True, width="stretch")
            st.caption("Suggested: " + literal(", ".join(f"{n} {w:.3f}" for n, w in s.weights.items())))
            st.button("Put them on the sliders", on_click=_apply, args=(dict(s.weights),), key="lm_apply")

    st.subheader("Where the models disagree", divider="gray")
    if not st.toggle("Compare the models token by token", key="lm_compare",
                     help="Pools the whole vocabulary at every token for the current weights: a few seconds on "
                     "large vocabularies, so it is computed on request."):
        return
    cmp = token_comparison(scores, weights, pool)
    st.markdown("Tokens won (the model giving the actual token most probability): " + literal(
        ", ".join(f"{n} {percent(share, 1)}" for n, share in cmp.win_share.items())))
    st.markdown("The fused top-1 against each model's: " + "; ".join(
        "{} — right where it is wrong on {:,} tokens, wrong where it is right on {:,}".format(
            literal(n), *cmp.fixes_and_breaks(m)) for m, n in enumerate(names)) + ".")
    rows = []
    for row in most_contested(cmp, CONTESTED):
        before, token = token_context(scores, models[0].tokenizer, int(row))
        rows.append({"before": before, "token": token, **{f"{n} (bits)": cmp.model_surprisal[m, row]
                                                           for m, n in enumerate(names)},
                     "fused (bits)": cmp.fused_surprisal[row], "won by": names[cmp.winner[row]]})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.2f") for c in rows[0] if "bits" in c}
                 if rows else None)
    st.caption("The tokens where the most and the least surprised model differ most (surprisal: −log₂ of the "
               "probability given to the actual token), with the text before them.")


fusion_view()

st.subheader("Generate with the fusion", divider="gray")
with st.form("lm_generate"):
    st.text_input("Prompt", key="lm_prompt", value="The film")
    left, mid, right, far = st.columns(4)
    left.number_input("New tokens at most", 1, 500, 40, key="lm_new_tokens")
    mid.toggle("Greedy", True, key="lm_greedy")
    right.number_input("Temperature", 0.05, 5.0, 1.0, step=0.05, key="lm_temperature")
    far.number_input("Seed", 0, 2**31 - 1, 0, key="lm_seed")
    go = st.form_submit_button("Generate", icon=":material/edit_note:")


def _stream_side_by_side(streams: list[tuple[str, object]], prompt: str, tokenizer) -> list[str]:
    """Each stream's text in its own column, one token of each in turn as they come; the texts."""
    area = st.empty()
    with area.container():
        shown = []
        for column, (heading, _) in zip(st.columns(len(streams)), streams):
            column.markdown(heading)
            shown.append(column.empty())
    tokens: list[list[int]] = [[] for _ in streams]
    live = list(range(len(streams)))
    while live:
        for i in list(live):
            token = next(streams[i][1], None)
            if token is None:
                live.remove(i)
                continue
            tokens[i].append(token)
            shown[i].text(prompt + tokenizer.decode(tokens[i], skip_special_tokens=True))
    area.empty()
    return [prompt + tokenizer.decode(t, skip_special_tokens=True) for t in tokens]


if go:
    with user_errors():
        sampling = Sampling(greedy=ss["lm_greedy"], temperature=float(ss["lm_temperature"]), seed=int(ss["lm_seed"]))
        weights = [float(ss.get(_weight_key(n), 1.0)) for n in names]
        pool = ss.get(K.WIDGET_LM_POOL, LM_POOLS[0])
        prompt, new_tokens = ss["lm_prompt"], int(ss["lm_new_tokens"])
        fused_heading = f"**Fused ({literal(POOL_LABELS[pool].lower())})**"
        streams = [(fused_heading, generate_stream(models, prompt, weights=weights, pool=pool,
                                                   max_new_tokens=new_tokens, sampling=sampling))]
        streams += [(f"**{literal(m.name)} alone**", generate_stream([m], prompt, max_new_tokens=new_tokens,
                                                                     sampling=sampling)) for m in models]
        texts = _stream_side_by_side(streams, prompt, models[0].tokenizer)
        ss[K.LM_GENERATED] = {"fused": texts[0], "heading": fused_heading,
                              "models": dict(zip(names, texts[1:]))}
generated = ss.get(K.LM_GENERATED)
if generated:
    columns = st.columns(1 + len(generated["models"]))
    columns[0].markdown(generated["heading"])
    columns[0].text(generated["fused"])
    for column, (name, text) in zip(columns[1:], generated["models"].items()):
        column.markdown(f"**{literal(name)} alone**")
        column.text(text)
