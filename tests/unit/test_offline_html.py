"""Executed notebooks as offline HTML: nothing fetched, progress bars as they ended."""

from nbformat.v4 import new_code_cell, new_notebook, new_output

from course.offline_html import NETWORK_RESOURCE, WIDGET_STATE, WIDGET_VIEW, export_html


def model(name: str, **state) -> dict:
    return {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": state}


def notebook_with_a_progress_bar():
    state = {
        "bar": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_p", "IPY_MODEL_right"]),
        "left": model("HTMLModel", value="training: 100%"),
        "p": model("FloatProgressModel", value=8.0, max=8.0),
        "right": model("HTMLModel", value=" 8/8 [00:02&lt;00:00]"),
    }
    view = {"version_major": 2, "version_minor": 0, "model_id": "bar"}
    output = new_output("display_data", {WIDGET_VIEW: view, "text/plain": "HBox()"})
    nb = new_notebook(cells=[new_code_cell("train()", outputs=[output])])
    nb.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2}}
    return nb


def test_the_page_fetches_nothing_and_shows_the_final_progress():
    page = export_html(notebook_with_a_progress_bar())
    assert not NETWORK_RESOURCE.search(page)
    assert "require.js" not in page and "MathJax" not in page and "unpkg.com" not in page
    assert '<progress max="8.0" value="8.0"></progress>' in page
    assert "training: 100%" in page and "8/8 [00:02&lt;00:00]" in page


def test_a_widget_without_state_leaves_no_trace():
    nb = notebook_with_a_progress_bar()
    nb.metadata.pop("widgets")
    page = export_html(nb)
    assert "<progress" not in page and WIDGET_VIEW not in page
