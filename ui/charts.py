"""Plotly figures shared by the pages: one builder per chart, no Streamlit calls.

Every chart colours an emotion the same way (``fer.labels.EMOTION_COLORS_RGB``, also used by the image
overlay), so "happy" is the same yellow in a box on a photo, a bar and a timeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from fer.labels import CLASS_NAMES, emotion_hex

_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
_AXIS_TITLE_TRUE = "True"
_AXIS_TITLE_PRED = "Predicted"

#: Evaluation charts' toolbar: one button, save the chart as PNG (drawn in the browser; nothing is sent anywhere).
CHART_CONFIG = {"displayModeBar": True, "displaylogo": False, "modeBarButtons": [["toImage"]]}


def _base_layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    """Compact layout used by every chart (small margins, optional title, fixed height)."""
    fig.update_layout(
        title={"text": title} if title else None,
        height=height,
        margin=_MARGIN if title else {**_MARGIN, "t": 10},
        showlegend=False,
    )
    return fig


def probability_bars(probs: Sequence[float] | np.ndarray, title: str | None = None, height: int = 260) -> go.Figure:
    """Horizontal bars of the 7 emotion probabilities, most probable on top, labelled in percent."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.shape != (len(CLASS_NAMES),):
        raise ValueError(f"expected {len(CLASS_NAMES)} probabilities, got shape {p.shape}")
    order = np.argsort(p)[::-1]
    names = [CLASS_NAMES[i] for i in order]
    values = p[order]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=names,
            orientation="h",
            marker_color=[emotion_hex(n) for n in names],
            text=[f"{v:.1%}" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%", showgrid=True, fixedrange=True)
    fig.update_yaxes(autorange="reversed", fixedrange=True)
    return _base_layout(fig, title, height)


def row_normalised(matrix: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Each row divided by its total (the per-true-class recall view); empty rows stay 0."""
    m = np.asarray(matrix, dtype=np.float64)
    totals = m.sum(axis=1, keepdims=True)
    return np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)


def confusion_figure(
    matrix: Sequence[Sequence[int]] | np.ndarray,
    normalise: bool = False,
    highlight: tuple[str, str] | None = None,
    selectable: bool = False,
    height: int = 480,
) -> go.Figure:
    """Confusion-matrix heat map (rows true, columns predicted), every cell annotated.

    ``normalise`` shows row percentages (recall per class) instead of counts. ``highlight`` outlines one
    (true, predicted) cell. ``selectable`` adds an invisible marker per cell: Plotly (and so
    ``st.plotly_chart(on_select=...)``) reports no selection for heat-map cells, but does for markers.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    n = len(CLASS_NAMES)
    if counts.shape != (n, n):
        raise ValueError(f"expected a {n}x{n} confusion matrix, got shape {counts.shape}")
    rates = row_normalised(counts)
    z = rates if normalise else counts
    text = [[f"{v:.0%}" for v in row] for row in rates] if normalise else [[str(v) for v in row] for row in counts]
    names = list(CLASS_NAMES)
    custom = np.dstack([counts, rates])
    hover = (
        f"{_AXIS_TITLE_TRUE} %{{y}}<br>{_AXIS_TITLE_PRED} %{{x}}<br>"
        "%{customdata[0]} faces (%{customdata[1]:.1%} of the row)<extra></extra>"
    )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalise else None,
            customdata=custom,
            hovertemplate=hover,
            hoverinfo="skip" if selectable else None,
            colorbar={"tickformat": ".0%"} if normalise else None,
        )
    )
    if selectable:
        # Markers must stay hoverable (not hoverinfo="skip"): Plotly only reports clicks on hoverable points.
        xs, ys = np.meshgrid(names, names)
        fig.add_trace(
            go.Scatter(
                x=xs.ravel(),
                y=ys.ravel(),
                mode="markers",
                marker={"symbol": "square", "size": 38, "opacity": 0.0},
                customdata=custom.reshape(-1, 2),
                hovertemplate=hover,
                showlegend=False,
            )
        )
    if highlight is not None:
        t, p = (names.index(c) for c in highlight)
        fig.add_shape(
            type="rect", x0=p - 0.5, x1=p + 0.5, y0=t - 0.5, y1=t + 0.5, line={"color": "#e63946", "width": 3}
        )
    fig.update_xaxes(title=_AXIS_TITLE_PRED, side="bottom", fixedrange=True)
    fig.update_yaxes(title=_AXIS_TITLE_TRUE, autorange="reversed", fixedrange=True)
    fig.update_layout(clickmode="event+select", dragmode=False)
    return _base_layout(fig, None, height)


def topk_figure(
    topk: Sequence[float],
    reference: Sequence[float] | None = None,
    reference_name: str = "model card",
    height: int = 320,
) -> go.Figure:
    """Top-k accuracy for k = 1..7 (how often the true emotion is among the k most probable)."""
    ks = list(range(1, len(topk) + 1))
    fig = go.Figure(
        go.Scatter(
            x=ks,
            y=list(topk),
            mode="lines+markers+text",
            name="this evaluation",
            text=[f"{v:.1%}" for v in topk],
            textposition="top center",
            cliponaxis=False,
            hovertemplate="top-%{x}: %{y:.2%}<extra></extra>",
        )
    )
    if reference is not None:
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=list(reference),
                mode="lines",
                name=reference_name,
                line={"dash": "dot"},
                hovertemplate=f"{reference_name} top-%{{x}}: %{{y:.2%}}<extra></extra>",
            )
        )
    fig.update_xaxes(title="k", dtick=1, range=[0.6, 7.4], fixedrange=True)
    fig.update_yaxes(title="accuracy", tickformat=".0%", range=[0, 1.1], fixedrange=True)
    _base_layout(fig, None, height)
    fig.update_layout(showlegend=reference is not None, legend={"orientation": "h", "y": -0.25})
    return fig


def _field(obj: Any, name: str) -> Any:
    """Read ``name`` from a dataclass (fresh report) or a dict (report stored in a model card)."""
    if is_dataclass(obj):
        obj = asdict(obj)
    if isinstance(obj, Mapping):
        return obj[name]
    return getattr(obj, name)


def reliability_figure(reliability: Any, height: int = 360) -> go.Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration.

    Accepts ``fer.evaluation.metrics.Reliability`` or its dict form (as stored in the model card); empty bins are
    left out. Hovering a bar shows its face count and mean confidence.
    """
    edges = np.asarray(_field(reliability, "bin_edges"), dtype=np.float64)
    acc = _field(reliability, "bin_accuracy")
    conf = _field(reliability, "bin_confidence")
    count = _field(reliability, "bin_count")
    keep = [i for i, a in enumerate(acc) if a is not None]
    centres = [(edges[i] + edges[i + 1]) / 2 for i in keep]
    widths = [edges[i + 1] - edges[i] for i in keep]
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=[acc[i] for i in keep],
            width=widths,
            name="accuracy",
            marker={"color": "#3478f6", "line": {"color": "white", "width": 1}},
            customdata=[[count[i], conf[i], edges[i], edges[i + 1]] for i in keep],
            hovertemplate=(
                "confidence %{customdata[2]:.0%}–%{customdata[3]:.0%}<br>accuracy %{y:.1%}<br>"
                "mean confidence %{customdata[1]:.1%}<br>%{customdata[0]} faces<extra></extra>"
            ),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfect calibration",
            line={"dash": "dash", "color": "grey"},
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(title="confidence (top-1 probability)", range=[0, 1], tickformat=".0%", fixedrange=True)
    fig.update_yaxes(title="accuracy", range=[0, 1], tickformat=".0%", fixedrange=True)
    _base_layout(fig, None, height)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.3}, bargap=0)
    return fig


def timeline_figure(
    times: Sequence[float],
    probs: Sequence[Sequence[float]] | np.ndarray,
    height: int = 280,
    gap_s: float | None = 1.5,
) -> go.Figure:
    """The 7 emotion probabilities over time (seconds), one coloured line each, for the live page.

    Samples further apart than ``gap_s`` (no face in between) are not joined: the lines break there,
    so a stretch without a face shows as a gap instead of a straight line across it.
    """
    t, p = with_gaps(times, probs, gap_s)
    fig = go.Figure(
        [
            go.Scatter(
                x=t,
                y=p[:, i],
                mode="lines",
                name=name,
                line={"color": emotion_hex(name), "width": 2},
                connectgaps=False,
                hovertemplate=f"{name} %{{y:.0%}} at %{{x:.1f}} s<extra></extra>",
            )
            for i, name in enumerate(CLASS_NAMES)
        ]
    )
    fig.update_xaxes(title="seconds", fixedrange=True)
    fig.update_yaxes(title="probability", range=[0, 1], tickformat=".0%", fixedrange=True)
    _base_layout(fig, None, height)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.35})
    return fig


def with_gaps(
    times: Sequence[float], probs: Sequence[Sequence[float]] | np.ndarray, gap_s: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """(times, probs) with a NaN row inserted wherever consecutive samples are more than ``gap_s`` apart.

    Plotly draws no line through NaN, so each gap stays empty. ``gap_s=None`` inserts nothing.
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    p = np.asarray(probs, dtype=np.float64).reshape(len(t), len(CLASS_NAMES)) if len(t) else np.zeros((0, 7))
    if gap_s is None or len(t) < 2:
        return t, p
    breaks = np.flatnonzero(np.diff(t) > gap_s) + 1  # index of the first sample after each gap
    if len(breaks) == 0:
        return t, p
    gap_times = (t[breaks - 1] + t[breaks]) / 2
    return np.insert(t, breaks, gap_times), np.insert(p, breaks, np.nan, axis=0)


def probability_bars_html(probs: Sequence[float] | np.ndarray | None, *, muted: bool = False) -> str:
    """The 7 probabilities as thin bars in each emotion's colour (label order), as one HTML block.

    For the live page's panel, which redraws several times a second: plain HTML is far cheaper than a
    Plotly chart and uses the same colours. ``None`` (no face) draws empty bars; ``muted`` greys them
    out (stopped stream).
    """
    values = None if probs is None else np.asarray(probs, dtype=np.float64).reshape(-1)
    rows = []
    for i, name in enumerate(CLASS_NAMES):
        p = 0.0 if values is None else float(values[i])
        colour = "#bdbdbd" if muted else emotion_hex(name)
        text = f"{p:.0%}" if values is not None else "—"
        rows.append(
            '<div style="display:flex;align-items:center;gap:6px;margin:1px 0;font-size:0.85rem">'
            f'<span style="width:4.6em">{name}</span>'
            '<span style="flex:1;background:rgba(128,128,128,0.18);border-radius:3px;height:0.7em">'
            f'<span data-emotion="{name}" style="display:block;width:{100 * min(max(p, 0.0), 1.0):.1f}%;'
            f'height:100%;background:{colour};border-radius:3px"></span></span>'
            f'<span style="width:3em;text-align:right">{text}</span></div>'
        )
    opacity = "0.55" if muted else "1"
    return f'<div style="opacity:{opacity}">' + "".join(rows) + "</div>"
