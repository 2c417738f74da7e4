"""AppTest: the user's own data is not lost (issue 12, items 4-7): a reload brings it back, a
shared link whose data is not here says so and waits for it, picking a demo keeps it one
click away, and an exported ensemble config loads back."""

from __future__ import annotations

import json
import secrets

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import DATA, START
from ensemble_core.explore import ensemble_config

pytestmark = pytest.mark.xdist_group("app")
FOLDER_SUBMIT = "FormSubmitter:folder_form-Read these files"
CONFIG_SUBMIT = "FormSubmitter:config_form-Apply config"


def _query(at: AppTest) -> dict[str, str | list[str]]:
    """The session's URL query, as a reload would send it again."""
    return {key: at.query_params[key] for key in at.query_params}


@pytest.fixture
def reopen(run_page):
    """``reopen(query)``: a new session (a reload, or a link opened elsewhere) on the Start page."""
    return lambda query: run_page(None, query)


def _read_folder(at: AppTest, files) -> AppTest:
    labels, folder = files
    at.text_input(key="path_labels").input(str(labels))
    at.text_input(key="path_predictions").input(str(folder))
    return at.button(key=FOLDER_SUBMIT).click().run()


def _weighted(at: AppTest, weights: dict[str, float]) -> AppTest:
    """Move the sliders (the view they write) to ``weights``."""
    at.session_state["view"] = at.session_state["view"].with_weights(weights)
    return at.run()


# 6: a reload ----------------------------------------------------------------------------

def test_a_reload_brings_back_the_data_read_by_path_with_its_view(small_set_loaded, reopen):
    at = _weighted(small_set_loaded, {"alpha": 2.5})
    query = _query(at)
    assert query["own"], "the URL holds the key to the data kept for a reload"
    again = reopen(query)
    assert not again.exception
    source = again.session_state["source"]
    assert source.kind == "folder" and source.model_names == ("alpha", "beta", "gamma")
    assert again.session_state["view"].weight("alpha") == 2.5
    assert not again.warning, "nothing was lost, so there is nothing to warn about"


def test_a_reload_brings_back_uploaded_files(small_set_files, reopen):
    labels, folder = small_set_files
    # AppTest cannot fill a file widget: the session loads as the upload form's submit does.
    script = AppTest.from_function(_upload, args=(str(labels), [str(p) for p in sorted(folder.iterdir())]))
    script.run(timeout=60)
    assert not script.exception and script.session_state["ok"] is True
    again = reopen({"own": script.session_state["view"].own})
    assert again.session_state["source"].kind == "upload"
    assert again.session_state["source"].model_names == ("alpha", "beta", "gamma")


def _upload(labels: str, predictions: list[str]) -> None:
    import io as _io
    from pathlib import Path

    import streamlit as st

    from dashboard.actions import init_session, load_uploads

    class Up(_io.BytesIO):
        def __init__(self, path):
            super().__init__(Path(path).read_bytes())
            self.name = Path(path).name

    init_session({})
    st.session_state["ok"] = load_uploads(Up(labels), [Up(p) for p in predictions])


def _source(at: AppTest):
    return at.session_state["source"] if "source" in at.session_state else None


def _own(at: AppTest):
    return at.session_state["own_source"] if "own_source" in at.session_state else None


def test_another_session_without_the_key_does_not_get_the_data(small_set_loaded, reopen):
    query = _query(small_set_loaded)
    stranger = reopen(query | {"own": secrets.token_urlsafe(16)})
    assert _source(stranger) is None and _own(stranger) is None
    fresh = reopen({})
    assert _source(fresh).kind == "demo" and _own(fresh) is None


# 4: a shared link whose data is not here ----------------------------------------------------

@pytest.mark.parametrize("with_key", [True, False], ids=["link-with-key", "link-without-key"])
def test_a_link_on_own_data_not_here_loads_nothing_says_so_and_waits_for_the_files(
        small_set_files, monkeypatch, shown, reopen, with_key):
    monkeypatch.setenv("ENSEMBLE_EXPLORER_ROOT", str(small_set_files[0].parent))
    link = {"strategy": "hard", "w": ["alpha:2.5", "beta:0.5", "gamma:1"], "off": ["gamma"]}
    if with_key:  # made elsewhere (another machine, or before a restart): the key names nothing here
        link["own"] = secrets.token_urlsafe(16)
    at = reopen(link)
    assert not at.exception
    assert _source(at) is None, "no silent switch to a demo"
    assert any("data is not on this machine" in shown(w.value) and "alpha, beta, gamma" in shown(w.value)
               for w in at.warning)
    assert at.query_params["strategy"] in ("hard", ["hard"]), "the link stays in the address bar"
    at.switch_page(DATA.path).run()
    assert any("waiting for its data" in shown(i.value) for i in at.info)
    _read_folder(at, small_set_files)
    assert not at.exception
    view = at.session_state["view"]
    assert (view.strategy, view.weight("alpha"), view.weight("beta"), view.off) == ("hard", 2.5, 0.5, ("gamma",))
    assert any("shared link's settings now apply" in shown(s.value) for s in at.success)


def test_a_waiting_link_does_not_lend_its_weights_to_a_demo(reopen):
    at = reopen({"w": ["forest:3", "knn:0"]})  # the digits demo has models of these names
    at.button(key="demo::digits").click().run()
    view = at.session_state["view"]
    assert at.session_state["source"].demo == "digits"
    assert (view.weight("forest"), view.weight("knn")) == (1.0, 1.0)


# 5: a demo does not throw the user's data away ----------------------------------------------

def test_picking_a_demo_keeps_your_data_one_click_away(small_set_loaded, shown, reopen):
    at = _weighted(small_set_loaded, {"beta": 0.3})
    at.switch_page(START.path).run()
    at.button(key="demo::digits").click().run()
    assert at.session_state["source"].demo == "digits"
    assert any("Your data" in shown(s.value) and "is kept" in shown(s.value) for s in at.success)
    at.button(key="own_data").click().run()
    assert not at.exception
    assert at.session_state["source"].kind == "folder"
    assert at.session_state["view"].weight("beta") == 0.3
    assert at.button(key="own_data").disabled
    # After a reload while a demo is shown, the data is still one click away.
    at.button(key="demo::digits").click().run()
    again = reopen(_query(at))
    assert again.session_state["source"].demo == "digits"
    assert any("also across a reload" in c.value for c in again.caption)
    again.button(key="own_data").click().run()
    assert again.session_state["source"].model_names == ("alpha", "beta", "gamma")


# 7: an exported config loads back ---------------------------------------------------------

def test_an_exported_config_loads_back_and_sets_the_view(small_set_loaded, shown):
    at = small_set_loaded
    exported = ensemble_config("geometric", ["alpha", "beta"], {"alpha": 2.0, "beta": 0.7}, excluded=["gamma"])
    at.text_area(key="config_text").input(json.dumps(exported, indent=2))
    at.button(key=CONFIG_SUBMIT).click().run()
    assert not at.exception and not at.error
    view = at.session_state["view"]
    assert (view.strategy, view.weight("alpha"), view.weight("beta"), view.off) == (
        "geometric", 2.0, 0.7, ("gamma",))
    assert any("Applied the config" in shown(s.value) for s in at.success)


def test_a_config_with_large_weights_is_brought_onto_the_sliders(small_set_loaded, shown):
    at = small_set_loaded
    at.text_area(key="config_text").input(json.dumps(
        {"strategy": "soft", "models": ["alpha", "beta", "gamma"], "weights": {"alpha": 6, "beta": 3, "gamma": 0}}))
    at.button(key=CONFIG_SUBMIT).click().run()
    view = at.session_state["view"]
    assert [view.weight(n) for n in ("alpha", "beta", "gamma")] == [3.0, 1.5, 0.0]
    assert any("scaled by 0.5" in shown(s.value) for s in at.success)


@pytest.mark.parametrize(("text", "message"), [
    ("{strategy: soft", "the pasted config: not valid JSON"),
    ('{"strategy": "soft", "models": ["alpha", "zeta"], "weights": {"alpha": 1, "zeta": 1}}',
     "no prediction file for model 'zeta'"),
    ('{"strategy": "vote", "models": ["alpha"]}', "'strategy' must be one of"),
])
def test_a_bad_config_is_one_error_line_and_changes_nothing(small_set_loaded, shown, text, message):
    at = small_set_loaded
    before = at.session_state["view"]
    at.text_area(key="config_text").input(text)
    at.button(key=CONFIG_SUBMIT).click().run()
    assert not at.exception
    assert len(at.error) == 1 and message in shown(at.error[0].value)
    assert "\n" not in at.error[0].value
    assert at.session_state["view"] == before
