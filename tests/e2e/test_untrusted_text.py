"""What only a browser shows: crafted files uploaded through the page put no link, image,
math or icon of theirs into the DOM on any page — not through Streamlit's markdown (links,
images, bare-URL autolinks, ``:material_…:`` icons, ``$…$``) nor through plotly's chart texts
(``<a href>`` in titles, tick labels, legends)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import ATTACK_MODEL_NAMES, crafted_files

from tests.e2e.test_browser import drawn, no_exception, settle

#: Links to and images from evil.example, and math and icons inside markdown: all would come
#: from the crafted files (the app's icons are separate elements, its formula is display math;
#: its own links are relative, with the view — model names included — in their query).
FOREIGN_MARKUP = """() => {
    const found = [];
    const host = url => { try { return new URL(url, location.href).hostname; } catch { return ''; } };
    for (const a of document.querySelectorAll('a')) {
        const href = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
        if (host(href) === 'evil.example') found.push('link ' + href);
    }
    for (const img of document.querySelectorAll('img, image')) {
        const src = img.getAttribute('src') || img.getAttribute('href') || img.getAttribute('xlink:href') || '';
        if (host(src) === 'evil.example' || src === 'x') found.push('image ' + src);
    }
    for (const box of document.querySelectorAll('[data-testid=stMarkdownContainer]')) {
        for (const k of box.querySelectorAll('.katex')) {
            if (!k.closest('.katex-display')) found.push('math ' + k.textContent);  // st.latex is display math
        }
        for (const icon of box.querySelectorAll('span[role=img]')) found.push('icon ' + icon.textContent);
    }
    return found;
}"""


def upload_crafted_files(page: Page) -> None:
    (labels_name, labels), predictions = crafted_files()
    page.goto("/Data_and_models")
    settle(page)
    form = page.locator('[data-testid="stForm"]').filter(has_text="Labelled dataset")
    inputs = form.locator('input[type="file"]')
    inputs.nth(0).set_input_files({"name": labels_name, "mimeType": "text/csv", "buffer": labels})
    inputs.nth(1).set_input_files([{"name": n, "mimeType": "text/csv", "buffer": b} for n, b in predictions])
    # Submitting before every upload has finished would send the form without them.
    expect(form.locator('[data-testid="stFileChipName"]')).to_have_count(1 + len(predictions))
    expect(form.locator('[data-testid="stFileChipIconSpinner"]')).to_have_count(0)
    form.get_by_role("button", name="Load these files").click()
    expect(page.get_by_text("Loaded 40 examples, 2 classes and 3 models.")).to_be_visible()
    settle(page)


def test_crafted_files_put_no_link_image_math_or_icon_in_any_page(page: Page):
    upload_crafted_files(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    for link, marker in [("Start", "What is loaded now"), ("Data & models", "Models in the ensemble"),
                         ("Ensemble", "Confusion matrices"), ("Disagreement", "The example"),
                         ("Diversity", "Which pairs add most"), ("Learn", "All together")]:
        # The sidebar's links keep the session (a fresh URL would start a new one, without the upload).
        sidebar.get_by_role("link", name=link).click()
        expect(page.get_by_text(marker).first).to_be_visible(timeout=60_000)
        settle(page)
        drawn(page)
        no_exception(page)
        assert page.evaluate(FOREIGN_MARKUP) == [], link
        if link == "Disagreement":
            # The review is there, as the text it is (markdown would have eaten the brackets).
            quote = page.locator('[data-testid="stMarkdownContainer"] blockquote').inner_text()
            assert shown(quote).startswith("Great film! ![x](http://evil.example/p.png) [click](https://evil.example)")
        if link == "Ensemble":
            sliders = page.locator('[data-testid="stSlider"] [data-testid="stWidgetLabel"]')
            expect(sliders).to_have_count(len(ATTACK_MODEL_NAMES), timeout=30_000)  # drawn after the metrics
            labels = sliders.all_inner_texts()
            assert [shown(label) for label in labels] == list(ATTACK_MODEL_NAMES)


def shown(text: str) -> str:
    """The text without the invisible word joiners that keep URLs from becoming links."""
    return text.replace("\u2060", "")
