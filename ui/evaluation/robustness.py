"""The Evaluation page's Robustness tab: top-1 under degraded faces, one line chart per kind of degradation.

Numbers come from :func:`fer.evaluation.robustness.robustness` (the same as ``python -m fer evaluate --robustness``),
cached like the other evaluations; with a second model picked for comparison both curves are drawn.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from fer.classifier import Classifier
from fer.data import SplitData
from fer.evaluation import robustness as engine
from fer.evaluation.robustness import Curve, passes
from ui.charts import CHART_CONFIG
from ui.common import load_classifier, with_progress
from ui.widget_state import kept_value

LINE_COLOURS = ("#1f77b4", "#d62728")  # first model, second model
COLUMNS = 2


def robustness_figure(kind_curves: dict[str, Curve], height: int = 280) -> go.Figure:
    """One kind's top-1 per level for each model (name -> curve), levels in their given order ("none" first)."""
    fig = go.Figure()
    first = next(iter(kind_curves.values()))
    numeric = all(isinstance(v, int | float) for v in first.levels)
    order = (
        sorted(range(len(first.levels)), key=lambda i: first.levels[i]) if numeric else list(range(len(first.levels)))
    )
    if first.kind in ("downscale", "contrast"):  # harsher to the right: fewer pixels, less contrast
        order = order[::-1]
    for colour, (name, curve) in zip(LINE_COLOURS, kind_curves.items()):
        fig.add_trace(
            go.Scatter(
                x=[curve.labels[i] for i in order],
                y=[curve.top1[i] * 100 for i in order],
                mode="lines+markers",
                name=name,
                line=dict(color=colour),
                hovertemplate=f"{name}: %{{x}} → top-1 %{{y:.1f}}%<extra></extra>",
            )
        )
    fig.update_xaxes(type="category", title=first.unit)
    fig.update_yaxes(title="top-1 %", rangemode="tozero")
    fig.update_layout(
        title=dict(text=first.title, font=dict(size=14)),
        height=height,
        margin=dict(l=10, r=10, t=40, b=10),
        showlegend=len(kind_curves) > 1,
        legend=dict(orientation="h", y=-0.35),
    )
    return fig


def _curves(classifier: Classifier, data: SplitData, persist: bool) -> list[Curve]:
    """The curves with a progress bar (instant from the cache)."""
    sample = min(engine.SAMPLE, len(data))
    return with_progress(
        f"Degrading faces: {passes()} passes of {sample:,} faces…",
        lambda done, total: f"{classifier.name}: pass {done}/{total}",
        lambda progress: engine.robustness(classifier, data, progress=progress, persist=persist),
    )


def show_robustness(classifier: Classifier, data: SplitData, persist: bool) -> None:
    """Both models' curves (the second one picked under *Compare with another model*, if any)."""
    sample = min(engine.SAMPLE, len(data))
    st.markdown(
        f"**Top-1 under degraded faces** on a fixed, seeded sample of {sample:,} {data.split} faces "
        "(stratified by emotion), without mirror TTA. Each curve starts at *none*, the undegraded faces. "
        f"Same numbers as `python -m fer evaluate --split {data.split} --robustness`."
    )
    models = {classifier.name: _curves(classifier, data, persist)}
    other = kept_value("compare_model", "—")
    if other not in (None, "—", classifier.name):
        second = load_classifier(other)
        if second is not None:
            models[second.name] = _curves(second, data, persist)
    else:
        st.caption("Pick a second model under *Compare with another model* (Report tab) to draw its curves too.")
    cols = st.columns(COLUMNS)
    for i, first in enumerate(models[classifier.name]):
        by_model = {name: curves[i] for name, curves in models.items()}
        with cols[i % COLUMNS]:
            st.plotly_chart(robustness_figure(by_model), key=f"robust_{first.kind}", config=CHART_CONFIG)
    st.dataframe(
        [
            {
                "degradation": c.kind,
                "model": name,
                "top-1 by level": " · ".join(f"{label} {top1:.1%}" for label, top1 in zip(c.labels, c.top1)),
            }
            for name, curves in models.items()
            for c in curves
        ],
        hide_index=True,
    )
