"""FER2013's label set, defined once so every module agrees on the index order."""

from __future__ import annotations

import numpy as np

#: Class names in the label-index order of the original ``fer2013.csv`` (0..6).
CLASS_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(CLASS_NAMES)


def top_label(probs: np.ndarray) -> str:
    """The class name of the highest of seven probabilities (or logits)."""
    return CLASS_NAMES[int(np.argmax(probs))]


#: The three ``Usage`` values of FER2013; the image-folder copy encodes them as file-name prefixes.
SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")

#: Side of the square grayscale faces FER2013 ships.
FACE_SIZE = 48

#: One colour (RGB) per emotion, shared by overlays and charts so a label looks the same everywhere.
EMOTION_COLORS_RGB: dict[str, tuple[int, int, int]] = {
    "angry": (230, 57, 70),
    "disgust": (106, 153, 78),
    "fear": (142, 68, 173),
    "happy": (255, 195, 0),
    "sad": (52, 120, 246),
    "surprise": (255, 127, 17),
    "neutral": (160, 160, 160),
}


def emotion_hex(name: str) -> str:
    """Hex colour of an emotion for plotly/CSS."""
    r, g, b = EMOTION_COLORS_RGB[name]
    return f"#{r:02x}{g:02x}{b:02x}"
