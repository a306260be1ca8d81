"""Executed notebooks as HTML pages that work offline.

The page loads no script or stylesheet from the network, and each widget (the notebooks'
progress bars) is shown as it stood when its cell finished, drawn from the widget state the
executed notebook keeps: a label, a native ``<progress>`` bar and the counts beside it.
"""

from __future__ import annotations

import copy
import html
import re
from pathlib import Path

from nbconvert import HTMLExporter
from nbformat import NotebookNode

TEMPLATES = Path(__file__).resolve().parent / "templates"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# What an offline page must not hold: a script or stylesheet loaded from another host.
NETWORK_RESOURCE = re.compile(r"<(?:script|link)[^>]+(?:src|href)=[\"']?(?:https?:)?//", re.I)


def export_html(nb: NotebookNode) -> str:
    """The notebook as one self-contained HTML page (figures are embedded already)."""
    exporter = HTMLExporter(extra_template_basedirs=[str(TEMPLATES)], template_name="offline")
    body, _ = exporter.from_notebook_node(render_widgets(nb))
    return body


def render_widgets(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` whose widget views are replaced by static HTML of their final state."""
    nb = copy.deepcopy(nb)
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).pop(WIDGET_VIEW, None)
            if view is not None:
                output["data"]["text/html"] = widget_html(view["model_id"], models)
    return nb


def widget_html(model_id: str, models: dict) -> str:
    """One widget (and its children) as static HTML; unknown widgets by their name."""
    model = models.get(model_id)
    if model is None:
        return ""
    name, state = model["model_name"], model["state"]
    if name == "HTMLModel":
        return f"<span>{state.get('value', '')}</span>"  # already HTML
    if name == "LabelModel":
        return f"<span>{html.escape(str(state.get('value', '')))}</span>"
    if name.endswith("ProgressModel"):
        value, maximum = state.get("value", 0), state.get("max", 100)
        return f'<progress value="{value}" max="{maximum}"></progress>'
    if "children" in state:
        children = [child.removeprefix("IPY_MODEL_") for child in state["children"]]
        inner = "".join(widget_html(child, models) for child in children)
        return f'<div style="display:flex;gap:0.5em;align-items:center">{inner}</div>'
    return f"<span>[{html.escape(name)}]</span>"
