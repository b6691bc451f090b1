"""The summary of a batch: per folder and per file, how many faces and which emotions — the classroom report.

Built from the batch's rows (``fer.batch``), so it can be regenerated from any finished or partial
output. The HTML page embeds plotly.js, so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path

from fer.labels import CLASS_NAMES, emotion_hex


def summarise(rows: list[dict], key: str = "folder") -> list[dict]:
    """One entry per ``key`` value ("folder" or "path"): files, faces, errors, share of each emotion."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[str(row[key])].append(row)
    out = []
    for name in sorted(groups):
        members = groups[name]
        faces = [r for r in members if r.get("status") == "ok"]
        labels = [r["label"] for r in faces]
        entry = {
            key: name,
            "files": len({r["path"] for r in members}),
            "files_without_faces": len({r["path"] for r in members if r.get("status") == "no face"}),
            "errors": sum(r.get("status") == "error" for r in members),
            "faces": len(faces),
            "share": {c: (labels.count(c) / len(labels) if labels else 0.0) for c in CLASS_NAMES},
            "mean_probs": {c: (sum(float(r[c]) for r in faces) / len(faces) if faces else 0.0) for c in CLASS_NAMES},
        }
        entry["top_emotion"] = max(CLASS_NAMES, key=lambda c: entry["share"][c]) if faces else None
        out.append(entry)
    return out


def emotion_share_figure(summary: list[dict], key: str, title: str):  # noqa: ANN201 - plotly Figure
    """Stacked horizontal bars: the share of faces read as each emotion, one bar per group."""
    import plotly.graph_objects as go

    names = [Path(s[key]).name or s[key] for s in summary]
    fig = go.Figure(
        [
            go.Bar(
                y=names,
                x=[s["share"][c] for s in summary],
                name=c,
                orientation="h",
                marker_color=emotion_hex(c),
                hovertemplate=f"{c}: %{{x:.0%}}<extra>%{{y}}</extra>",
            )
            for c in CLASS_NAMES
        ]
    )
    fig.update_layout(
        barmode="stack",
        title=title,
        xaxis=dict(tickformat=".0%", range=[0, 1]),
        height=140 + 28 * len(names),
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h"),
    )
    return fig


def write_html(rows: list[dict], out: Path) -> None:
    """A self-contained HTML report: per-folder chart and table, then per-file table."""
    folders = summarise(rows, "folder")
    files = summarise(rows, "path")
    total_faces = sum(f["faces"] for f in folders)
    fig = emotion_share_figure(folders, "folder", "Emotions per folder (share of faces)")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Emotion report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>",
        "</head><body><h1>Emotion report</h1>",
        f"<p>{sum(f['files'] for f in folders)} files, {total_faces} faces, "
        f"{sum(f['errors'] for f in folders)} unreadable files. Emotions as read by a FER2013-trained network: "
        "an estimate of facial expression, not of what anyone feels.</p>",
        fig.to_html(full_html=False, include_plotlyjs=True),
        "<h2>Per folder</h2>",
        _table(folders, "folder"),
        "<h2>Per file</h2>",
        _table(files, "path"),
        "</body></html>",
    ]
    out.write_text("\n".join(parts), encoding="utf-8")


def _table(summary: list[dict], key: str) -> str:
    head = "".join(f"<th>{h}</th>" for h in (key, "files", "faces", "no face", "errors", "top", *CLASS_NAMES))
    body = []
    for s in summary:
        cells = [
            html.escape(s[key]),
            s["files"],
            s["faces"],
            s["files_without_faces"],
            s["errors"],
            s["top_emotion"] or "–",
            *(f"{s['share'][c]:.0%}" for c in CLASS_NAMES),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"
