"""Each gallery face's FER+ votes as a small bar drawn under the face, plus a one-line summary and a legend.

The bar is part of the image (``st.image`` captions are text only): ten annotators, one segment per
vote, coloured as the charts colour each emotion; contempt, unknown and not-a-face votes in dark grey.
A face FER+ has no votes for gets a hatched bar, so "no votes" never looks like "no agreement".
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from fer.ferplus import FERPLUS_COLUMNS
from fer.labels import EMOTION_COLORS_RGB, emotion_hex
from ui.results import enlarge

BAR_PX = 10
OTHER_RGB = (70, 70, 70)  # contempt, unknown, not a face
#: FER+ column -> the FER2013 emotion name it counts for (None: no FER2013 class)
COLUMN_EMOTION = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "contempt": None,
    "unknown": None,
    "NF": None,
}
# Segments are drawn in FER2013's class order (then the others), so the same emotion sits in the same place.
_ORDER = [FERPLUS_COLUMNS.index(c) for c in ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral",
                                              "contempt", "unknown", "NF")]  # fmt: skip


def _colour(col: int) -> tuple[int, int, int]:
    name = COLUMN_EMOTION[FERPLUS_COLUMNS[col]]
    return EMOTION_COLORS_RGB[name] if name else OTHER_RGB


def with_vote_bar(face: np.ndarray, votes: np.ndarray | None) -> np.ndarray:
    """An RGB image: the (already enlarged) grey ``face`` above a bar of its 10 FER+ votes."""
    width = face.shape[1]
    bar = np.full((BAR_PX, width, 3), 255, np.uint8)
    total = 0 if votes is None else int(np.maximum(votes, 0).sum())
    if total == 0:
        bar[:, :] = 225
        for x in range(-BAR_PX, width, 6):  # hatched: no votes for this face
            cv2.line(bar, (x, BAR_PX - 1), (x + BAR_PX, 0), (170, 170, 170), 1)
    else:
        counts = np.maximum(votes[_ORDER], 0)
        ends = np.rint(np.cumsum(counts) * width / total).astype(int)  # the last end is exactly ``width``
        for col, start, end in zip(_ORDER, np.concatenate([[0], ends[:-1]]), ends):
            bar[:, start:end] = _colour(col)
    return np.vstack([cv2.cvtColor(face, cv2.COLOR_GRAY2RGB), bar])


def vote_summary(votes: np.ndarray | None) -> str:
    """The top vote as text, e.g. ``FER+ 8/10 neutral``; ``no FER+ votes`` where there are none."""
    if votes is None or votes[0] < 0:
        return "no FER+ votes"
    v = np.maximum(votes, 0)
    col = int(v.argmax())
    name = COLUMN_EMOTION[FERPLUS_COLUMNS[col]] or FERPLUS_COLUMNS[col]
    return f"FER+ {int(v[col])}/{int(v.sum())} {name}"


def legend_html() -> str:
    """The bar's colour key, one line of HTML swatches."""
    items = [(emotion_hex(e), e) for e in EMOTION_COLORS_RGB] + [("#464646", "contempt / unknown / not a face")]
    swatches = "".join(
        f'<span style="white-space:nowrap;margin-right:10px"><span style="display:inline-block;width:10px;'
        f'height:10px;background:{c};margin-right:3px"></span>{name}</span>'
        for c, name in items
    )
    return f'<div style="font-size:0.8em">Bar under each face: the 10 FER+ annotators\' votes. {swatches}</div>'


def gallery_faces(images: np.ndarray, indices: Sequence[int], votes: np.ndarray | None, px: int) -> list[np.ndarray]:
    """Faces ``images[indices]`` enlarged to ``px`` (the pixels the model saw), each with its vote bar when
    ``votes`` (rows aligned with ``images``) are given."""
    faces = [enlarge(images[i], px) for i in indices]
    if votes is None:
        return faces
    return [with_vote_bar(face, votes[i]) for face, i in zip(faces, indices)]
