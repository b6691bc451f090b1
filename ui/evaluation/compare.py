"""The Evaluation page's model comparison: two models on the same faces, side by side.

Numbers come from :class:`fer.evaluation.compare.Comparison` (the same as
``python -m fer evaluate --model A --model B``); this module only draws them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from fer.evaluation.compare import Comparison
from fer.evaluation.ferplus_eval import FerPlusReport
from fer.labels import CLASS_NAMES
from ui.charts import CHART_CONFIG
from ui.evaluation.ferplus import show_ferplus_comparison
from ui.evaluation.vote_bar import gallery_faces
from ui.results import pct

GALLERY_LIMIT = 24
GALLERY_PX = 96
GALLERIES = {
    "only_b_right": "only {b} right",
    "only_a_right": "only {a} right",
    "both_wrong": "both wrong",
}


def confusion_delta_figure(delta: np.ndarray, name_a: str, name_b: str, height: int = 420) -> go.Figure:
    """Diverging heat map of B's confusion counts minus A's (green on the diagonal = B better there)."""
    d = np.asarray(delta, dtype=float)
    good = d.copy()
    off = ~np.eye(len(CLASS_NAMES), dtype=bool)
    good[off] = -good[off]  # fewer mistakes off the diagonal is good too: colour by "better for B"
    limit = max(1.0, float(np.abs(good).max()))
    fig = go.Figure(
        go.Heatmap(
            z=good,
            x=list(CLASS_NAMES),
            y=list(CLASS_NAMES),
            text=[[f"{int(v):+d}" if v else "0" for v in row] for row in d],
            texttemplate="%{text}",
            customdata=d,
            hovertemplate=f"true %{{y}}, predicted %{{x}}: {name_b} minus {name_a} = %{{customdata:+d}} faces"
            "<extra></extra>",
            colorscale="RdYlGn",
            zmin=-limit,
            zmax=limit,
            showscale=False,
        )
    )
    fig.update_yaxes(autorange="reversed", title="true")
    fig.update_xaxes(title="predicted", side="top")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def show_comparison(
    comp: Comparison, votes: np.ndarray | None = None, ferplus: dict[str, FerPlusReport] | None = None
) -> None:
    """Top-k and ECE deltas, per-class F1, confusion difference and a gallery of disagreements.

    ``votes``: FER+ votes aligned with the compared faces (a bar under each face); ``ferplus``: each
    model's figures against the FER+ majority.
    """
    a, b = comp.a.report, comp.b.report
    st.subheader(f"`{comp.name_b}` compared with `{comp.name_a}`", anchor=False)
    st.caption(
        f"Both on the same {a.n:,} {a.split} faces with the same TTA setting; deltas are "
        f"`{comp.name_b}` minus `{comp.name_a}`."
    )
    cols = st.columns(4)
    for col, (label, va, vb) in zip(
        cols, (("Top-1", a.top1, b.top1), ("Top-2", a.top2, b.top2), ("Top-3", a.top3, b.top3))
    ):
        col.metric(f"{label} of {comp.name_b}", pct(vb), f"{(vb - va) * 100:+.2f} pp", border=True,
                   help=f"{comp.name_a}: {pct(va)}")  # fmt: skip
    ece_delta = (b.ece - a.ece) * 100
    cols[3].metric(
        f"ECE of {comp.name_b}",
        pct(b.ece),
        f"{ece_delta:+.2f} pp" if abs(ece_delta) >= 0.005 else None,
        delta_color="inverse",
        border=True,
        help=f"Lower is better. {comp.name_a}: {pct(a.ece)}",
    )
    if ferplus:
        show_ferplus_comparison(ferplus)

    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Per-class F1**")
        st.dataframe(
            [
                {
                    "emotion": name,
                    comp.name_a: a.per_class[name]["f1"],
                    comp.name_b: b.per_class[name]["f1"],
                    "Δ": comp.f1_delta[name],
                }
                for name in CLASS_NAMES
            ],
            hide_index=True,
            column_config={
                comp.name_a: st.column_config.NumberColumn(format="%.3f"),
                comp.name_b: st.column_config.NumberColumn(format="%.3f"),
                "Δ": st.column_config.NumberColumn(format="%+.3f"),
            },
        )
    with right:
        st.markdown(f"**Confusion difference** (faces; green = better for `{comp.name_b}`)")
        st.plotly_chart(
            confusion_delta_figure(comp.confusion_delta, comp.name_a, comp.name_b),
            key="compare_confusion",
            config=CHART_CONFIG,
        )

    counts = comp.disagreement_counts()
    st.markdown(
        f"**Where they disagree:** {counts['total']:,} faces — only `{comp.name_b}` right {counts['only_b_right']:,}, "
        f"only `{comp.name_a}` right {counts['only_a_right']:,}, both wrong {counts['both_wrong']:,}."
    )
    which = st.radio(
        "Show faces where",
        list(GALLERIES),
        format_func=lambda k: GALLERIES[k].format(a=comp.name_a, b=comp.name_b),
        horizontal=True,
        key="compare_gallery",
    )
    idx = comp.gallery(GALLERY_LIMIT, which)
    if not idx:
        st.info("No face in this group.")
        return
    labels = comp.a.data.labels
    captions = [
        f"true {CLASS_NAMES[labels[i]]} · {comp.name_a}: {CLASS_NAMES[comp.a.predicted[i]]} "
        f"{comp.a.probs[i].max():.0%} · {comp.name_b}: {CLASS_NAMES[comp.b.predicted[i]]} {comp.b.probs[i].max():.0%}"
        for i in idx
    ]
    st.image(gallery_faces(comp.a.data.images, idx, votes, GALLERY_PX), caption=captions, width=GALLERY_PX)
    st.caption("Each caption: the true emotion, then each model's label and its confidence in that label.")
