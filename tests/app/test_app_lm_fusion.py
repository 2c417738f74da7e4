"""AppTest: the Language models page on two tiny GPT-2s (its numbers are the core's)."""

import pytest

from dashboard.navigation import LANGUAGE_MODELS
from ensemble_core.lm import evaluate_fusion, generate, load_causal_lms, read_documents, score_models, token_comparison

pytestmark = [pytest.mark.xdist_group("app"), pytest.mark.slow]


@pytest.fixture
def scored_page(run_page, tiny_lms, monkeypatch):
    root, dirs, text = tiny_lms
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(root))
    at = run_page(LANGUAGE_MODELS.path)
    at.text_area(key="lm_dirs").set_value("fresh\nrotten")
    at.text_input(key="lm_text").set_value("eval.txt")
    at.button[0].click().run()  # the form's "Score"
    assert not at.exception and not at.error
    return at


@pytest.fixture(scope="module")
def reference(tiny_lms):
    _, dirs, text = tiny_lms
    models = load_causal_lms(dirs)
    return models, score_models(models, read_documents(text), max_tokens=2000)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("pool", ["linear", "loglinear"])
def test_the_fused_numbers_are_the_cores(scored_page, reference, pool):
    at = scored_page
    models, scores = reference
    at.radio(key="w_lm_pool").set_value(pool).run()
    at.slider(key="w_lm_weight::fresh").set_value(2.5).run()
    assert not at.exception
    exact = evaluate_fusion(scores, [2.5, 1.0], pool)
    assert abs(float(_metric(at, "Fused perplexity")) - exact.fused.perplexity) <= 1e-3 * exact.fused.perplexity
    assert _metric(at, "Top-1 accuracy") == f"{100 * exact.fused.accuracy:.2f} %"
    table = at.dataframe[0].value
    assert table["perplexity"].iloc[1] == pytest.approx(exact.models["fresh"].perplexity, rel=1e-5)
    assert table["weight"].iloc[1] == pytest.approx(2.5 / 3.5)
    assert list(table["parameters"].iloc[1:]) == [m.n_parameters for m in models]


def test_suggestion_contested_tokens_and_generation(scored_page, reference):
    at = scored_page
    models = reference[0]
    at.button(key="lm_suggest").click().run()
    assert not at.exception and not at.error
    assert "suggested weights" in list(at.dataframe[1].value["on held-out documents"])
    assert "suggested" in at.get("plotly_chart")[0].proto.spec  # its line on the weight curve
    at.button(key="lm_apply").click().run()
    assert at.slider(key="w_lm_weight::fresh").value + at.slider(key="w_lm_weight::rotten").value == pytest.approx(2.0, abs=0.11)
    at.toggle(key="lm_compare").set_value(True).run()
    assert not at.exception
    sliders = [at.slider(key="w_lm_weight::fresh").value, at.slider(key="w_lm_weight::rotten").value]
    fixes, breaks = token_comparison(reference[1], sliders, "linear").fixes_and_breaks(0)
    assert any(f"fresh — right where it is wrong on {fixes:,} tokens, wrong where it is right on {breaks:,}" in m.value
               for m in at.markdown)
    contested = at.dataframe[-1].value
    assert len(contested) == 20 and {"before", "token", "fused (bits)", "won by"} <= set(contested.columns)
    at.text_input(key="lm_prompt").set_value("The film")
    at.number_input(key="lm_new_tokens").set_value(8)
    at.button[-1].click().run()  # "Generate"
    assert not at.exception and not at.error
    w = [at.slider(key="w_lm_weight::fresh").value, at.slider(key="w_lm_weight::rotten").value]
    expected = generate(models, "The film", weights=w, max_new_tokens=8)
    texts = [t.value for t in at.text]
    assert "The film" + expected.text in texts
    assert "The film" + generate([models[0]], "The film", max_new_tokens=8).text in texts


def test_a_path_outside_the_root_is_refused_in_one_line(run_page, tiny_lms, monkeypatch, tmp_path):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(tmp_path))
    at = run_page(LANGUAGE_MODELS.path)
    at.text_area(key="lm_dirs").set_value(str(tiny_lms[1][0]))
    at.text_input(key="lm_text").set_value(str(tiny_lms[2]))
    at.button[0].click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value


def test_models_with_different_tokenizers_are_one_error_line_and_the_page_recovers(run_page, tiny_lms, monkeypatch):
    import shutil
    from pathlib import Path

    root, dirs, text = tiny_lms
    other = root / "demo_fresh"  # the demo's model: a tokenizer of its own (1,000 words, the tiny ones 500)
    if not other.exists():
        shutil.copytree(Path(__file__).resolve().parents[2] / "demo_data" / "lm" / "fresh", other)
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(root))
    at = run_page(LANGUAGE_MODELS.path)
    at.text_area(key="lm_dirs").set_value("fresh\ndemo_fresh")
    at.text_input(key="lm_text").set_value("eval.txt")
    at.button[0].click().run()
    assert not at.exception
    assert len(at.error) == 1 and "\n" not in at.error[0].value and "tokenizers differ" in at.error[0].value
    at.text_area(key="lm_dirs").set_value("fresh\nrotten")
    at.button[0].click().run()
    assert not at.exception and not at.error
    assert any(m.label == "Fused perplexity" for m in at.metric)
