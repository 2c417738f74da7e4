"""AppTest: what a file or a link holds is shown as text on every page, never as markdown.

A crafted data set (review text, class labels, ids, model and file names carrying a remote
image, a link, HTML, LaTeX and a Material icon) and a crafted shared link are loaded; every
element that Streamlit renders as markdown (alerts, markdown, captions, metric labels and
values, widget and button labels, radio and pills options, tooltips, expander and tab
labels, progress texts) must hold no link, image, HTML tag, math, icon or bare URL that did
not come from the app itself, and the crafted text must be there, escaped.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from dashboard import keys as K
from dashboard.navigation import COMPRESS, COST_FRONTIER, DATA, DISAGREEMENT, DISTILL, DIVERSITY, ENSEMBLE, LEARN
from dashboard.sources import upload_source
from dashboard.text import literal
from dashboard.view import Cell, View
from tests.conftest import ATTACK_CLASSES as CLASSES
from tests.conftest import ATTACK_HTML as HTML
from tests.conftest import ATTACK_ICON as ICON
from tests.conftest import ATTACK_ID_PREFIX as IDS_PREFIX
from tests.conftest import ATTACK_IMAGE as IMAGE
from tests.conftest import ATTACK_LABELS_NAME as LABELS_NAME
from tests.conftest import ATTACK_LINK as LINK
from tests.conftest import ATTACK_MATH as MATH
from tests.conftest import ATTACK_MODEL_NAMES as MODEL_NAMES
from tests.conftest import ATTACK_REVIEW as REVIEW
from tests.conftest import crafted_files

pytestmark = pytest.mark.xdist_group("app")

#: Unescaped markup that must never reach a markdown-rendered text.
MARKUP = {
    "link or image": re.compile(r"(?<!\\)\]\("),
    "HTML tag": re.compile(r"(?<!\\)<[A-Za-z/!]"),
    "LaTeX": re.compile(r"(?<!\\)\$"),
    "Material icon": re.compile(r"(?<!\\):material[/_]"),
    "bare URL": re.compile(r"https?://|www\.", re.IGNORECASE),
}
#: Elements that show their content as text (or are checked elsewhere): dataframes, plotly
#: charts (tests/test_figures.py), the formula (LaTeX-escaped by explore.formula_latex).
TEXT_ELEMENTS = {"text", "code", "dataframe", "arrow_data_frame", "plotly_chart", "latex", "json"}
#: Fields that are not rendered as markdown: widget ids, the app's own icon names, the plain
#: options of a selectbox or multiselect (shown as text), widget values.
NOT_MARKDOWN = {"id", "form_id", "icon", "options", "default", "value", "raw_value", "raw_values", "placeholder",
                "page_script_hash", "page", "url_path"}
PLAIN_OPTION_WIDGETS = {"selectbox", "multiselect"}


class _Upload(io.BytesIO):
    def __init__(self, name: str, data: bytes) -> None:
        super().__init__(data)
        self.name = name


def _crafted_uploads() -> tuple[_Upload, list[_Upload]]:
    (labels_name, labels), predictions = crafted_files()
    return _Upload(labels_name, labels), [_Upload(name, data) for name, data in predictions]


def _protos(at: AppTest):
    """(element type, proto) of every element and block on the page."""
    def walk(node):
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            yield getattr(node, "type", type(node).__name__), proto
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                yield from walk(child)

    yield from walk(at._tree)


def _strings(proto: Message, skip: set[str]):
    for field, value in proto.ListFields():
        if field.name in skip:
            continue
        values = value if field.is_repeated else [value]
        for v in values:
            if isinstance(v, str):
                yield field.name, v
            elif isinstance(v, Message):
                yield from _strings(v, skip)


def markdown_texts(at: AppTest) -> list[tuple[str, str]]:
    """Every string on the page that Streamlit renders as markdown, with where it is."""
    found = []
    for kind, proto in _protos(at):
        if kind in TEXT_ELEMENTS:
            continue
        skip = NOT_MARKDOWN if kind in PLAIN_OPTION_WIDGETS else NOT_MARKDOWN - {"options"}
        found += [(f"{kind}.{name}", text) for name, text in _strings(proto, skip)]
    return found


def assert_no_markup(at: AppTest) -> list[str]:
    """No markdown-rendered text holds markup; returns those texts for further checks."""
    assert not at.exception, at.exception
    texts = markdown_texts(at)
    bad = [(where, what, text) for where, text in texts for what, pattern in MARKUP.items() if pattern.search(text)]
    assert bad == []
    return [text for _, text in texts]


@pytest.fixture
def crafted(run_page) -> AppTest:
    """A session with the crafted upload loaded, as the upload form loads it."""
    at = run_page()
    labels, predictions = _crafted_uploads()
    source = upload_source(labels, predictions)
    at.session_state[K.SOURCE] = source  # swapped in without an action: the frame validates the view for it
    at.session_state[K.VIEW] = View(example=f"{IDS_PREFIX}0")
    at.run()
    return at


def test_the_crafted_set_loads_under_its_names(crafted):
    assert crafted.session_state[K.SOURCE].model_names == MODEL_NAMES


@pytest.mark.parametrize("page", [None, DATA.path, ENSEMBLE.path,
                                  DISAGREEMENT.path, DIVERSITY.path, LEARN.path, COST_FRONTIER.path,
                                  DISTILL.path, COMPRESS.path])
def test_no_page_renders_file_content_as_markdown(crafted, page):
    if page is not None:
        crafted.switch_page(page).run()
    texts = assert_no_markup(crafted)
    shown = " ".join(texts)
    # The sidebar's summary names the upload.
    assert literal(LABELS_NAME) in shown


def test_start_page_shows_names_and_classes_as_text(crafted):
    shown = " ".join(assert_no_markup(crafted))
    for name in MODEL_NAMES:
        assert literal(name) in shown
    for label in CLASSES:
        assert literal(label) in shown


def test_ensemble_sliders_and_cell_list_show_names_as_text(crafted):
    crafted.switch_page(ENSEMBLE.path).run()
    assert [s.label for s in crafted.slider] == [literal(n) for n in MODEL_NAMES]
    # A click on a cell of the model's confusion matrix.
    crafted.session_state[K.VIEW] = replace(crafted.session_state[K.VIEW], cell=Cell("model", 0, 1))
    crafted.run()
    shown = " ".join(assert_no_markup(crafted))
    assert f"of true class {literal(CLASSES[0])} that {literal(MODEL_NAMES[0])} predicts as {literal(CLASSES[1])}" \
        in shown


def test_disagreement_shows_the_review_text_as_text(crafted):
    crafted.switch_page(DISAGREEMENT.path).run()
    shown = assert_no_markup(crafted)
    quote = next(t for t in shown if t.startswith("> "))
    assert quote == "> " + literal(REVIEW).replace("\n", "\n> ")
    example = next(t for t in shown if "true class" in t)
    assert literal(f"{IDS_PREFIX}0") in example and literal(CLASSES[0]) in example


def test_data_page_pills_show_model_names_as_text(crafted):
    crafted.switch_page(DATA.path).run()
    assert_no_markup(crafted)
    pills = next(proto for kind, proto in _protos(crafted) if kind == "button_group")
    assert [o.content for o in pills.options] == [literal(n) for n in MODEL_NAMES]


def test_learn_page_names_the_weakest_model_as_text(crafted):
    crafted.switch_page(LEARN.path).run()
    shown = " ".join(assert_no_markup(crafted))
    assert f"Soft average without {literal(MODEL_NAMES[2])}" in shown


@pytest.mark.parametrize("query", [
    {"data": "[Session expired - click here](https://evil.example/login)"},
    {"data": "digits", "w": [f"{LINK}:1", f"knn:{IMAGE}", "knn:9"], "strategy": HTML, "meta": MATH, "cal": ICON,
     "example": "[see](https://evil.example)"},
], ids=["data", "view"])
def test_a_crafted_link_is_reported_as_text(run_page, query):
    at = run_page(query=query)
    assert_no_markup(at)
    notes = [w.value for w in at.warning]
    assert notes and all(n.startswith("Shared link: ") for n in notes)
    crafted_values = [v for values in query.values() for v in (values if isinstance(values, list) else [values])]
    assert any(literal(v) in n for v in crafted_values if v not in ("digits", "knn:9") for n in notes)


def test_the_session_expired_link_is_not_a_link(run_page):
    at = run_page(query={"data": "[Session expired - click here](https://evil.example/login)"})
    assert at.warning[0].value == ("Shared link: the link names data "
                                   + literal("'[Session expired - click here](https://evil.example/login)'")
                                   + literal(", which is not a bundled demo") + ".")


def _load_script(labels_name: str, labels_bytes: bytes, pred_name: str, pred_bytes: bytes) -> None:
    import io as _io

    import streamlit as st

    from dashboard.actions import load_uploads

    class Up(_io.BytesIO):
        def __init__(self, name, data):
            super().__init__(data)
            self.name = name

    st.session_state["ok"] = load_uploads(Up(labels_name, labels_bytes), [Up(pred_name, pred_bytes)])


def test_an_error_quoting_a_crafted_file_name_and_value_is_text():
    bad = f"id,{CLASSES[0]},{CLASSES[1]}\n1,0.5,0.4\n".encode()
    labels = f"id,label\n1,{CLASSES[0]}\n".encode()
    at = AppTest.from_function(_load_script, args=(LABELS_NAME, labels, f"{MODEL_NAMES[0]}.csv", bad))
    at.run(timeout=60)
    assert at.session_state["ok"] is False
    assert_no_markup(at)
    assert at.error[0].value.startswith(literal(f"{MODEL_NAMES[0]}.csv"))
