"""Cheap detect-or-follow scheduling: a full-frame scan now and then, each known face followed locally between.

Used by :class:`fer.stream.FaceStream` for the webcam and video files; frames come in order, with a time
in seconds. Following a face re-detects it in a small window around its last box, with the detector's
own functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from fer.detection.detector import Detection, detect, detect_in_region, frame_box, iou, order_boxes
from fer.detection.haar import cascade_window
from fer.detection.settings import CASCADE_WINDOW, Box, DetectorSettings

#: Full-frame face detection runs at most this often (and whenever no face is being followed); in
#: between, each face is re-detected only in a small window around where it was (see ``follow_faces``).
#: A face that enters beside a known one is found within this time (0.5 s asked for video).
REDETECT_INTERVAL_S = 0.5
#: The webcam locates known faces at most this often (seconds); frames in between reuse the boxes.
LIVE_FOLLOW_INTERVAL_S = 0.05
#: Following: the window around the previous box, as a fraction of its side added on every side (a
#: 60 px box: 21 px, a face moving 600 px/s at 30 frames/s). Real faces of 41-110 px on two
#: 640x480 clips (video and Live settings): 0.35 held as many frames under as many ids as 0.5, at 1.25-1.3x
#: the frames/s of locating faces (under load) ...
FOLLOW_PAD = 0.35
#: ... scanned at a scale where the face is this many pixels wide (cheap, and still precise to ~2 px) ...
FOLLOW_FACE_PX = 48
#: ... accepting faces down to this fraction of the previous size (smaller: lost, so full detection),
#: whatever the detector's minimum face: a face found at 41 px whose following hit came out at 38 px was
#: lost at once while this minimum was floored at that 40 px setting (new ids every 0.5 s).
FOLLOW_MIN_SCALE = 0.6
#: ... by the first cascade alone with this many neighbours: the face was verified when first found, and
#: a hit must overlap its last box. Two real faces (76 and 50 px) in three 10 s clips: as many
#: frames held as with the second look and the third cascade in following too, at 2.4x the frames/s;
#: 5 neighbours lost the 50 px face in a quarter of one clip's frames.
FOLLOW_NEIGHBORS = 3


class DetectOrFollow:
    """Faces per frame: a full-frame Haar scan when due, else each known face followed locally.

    Detection is what costs time on a CPU, so a frame only gets a full scan every ``interval`` seconds,
    when asked to (``full=True``), or when every followed face was lost; other frames re-detect each
    known face in a window around its last box (:func:`follow_faces`), far cheaper, which keeps the boxes
    on a moving face. New faces therefore appear within ``interval``. ``interval=0`` scans every frame in
    full. While no face is known, a full scan runs at most every ``idle_interval`` seconds (0, the
    webcam's choice: every frame), so footage without faces does not cost a full scan per frame. Known
    faces are located at most every ``follow_interval`` seconds (the webcam: 20 times a second); a frame
    in between reuses the last faces, which halves the detection work of a 30 FPS camera.
    The faces followed are the last ones found, or those :meth:`follow` names (the stream hands back
    every tracked face, held ones included). One instance per stream, called from one thread.
    """

    def __init__(
        self, interval: float = REDETECT_INTERVAL_S, idle_interval: float = 0.0, follow_interval: float = 0.0
    ) -> None:
        self.interval = float(interval)
        self.idle_interval = float(idle_interval)
        self.follow_interval = float(follow_interval)
        self._found: list[Detection] = []  # what the last located frame gave
        self._follow: list[Box] = []  # where to look next
        self._last_full = -float("inf")
        self._last_located = -float("inf")

    def follow(self, boxes: Sequence[Box]) -> None:
        """Look for faces around these boxes in the next frames (until the next full scan)."""
        self._follow = list(boxes)

    def reset(self) -> None:
        """Forget the known faces: the next frame is scanned in full."""
        self._found, self._follow = [], []
        self._last_full = self._last_located = -float("inf")

    def find(self, gray: np.ndarray, settings: DetectorSettings, now: float, *, full: bool = False) -> list[Detection]:
        """This frame's faces, largest first; ``now`` in seconds (any origin, increasing).

        Faces from a full scan carry the detector's score; followed ones carry none.
        """
        since = now - self._last_full
        if not full and self._follow and self.interval > 0 and since < self.interval:
            if now - self._last_located < self.follow_interval:
                return self._found  # located a moment ago: a face moves a few pixels at most since
            boxes = follow_faces(gray, self._follow, settings)
            if boxes or since < self.idle_interval:  # lost for now: scan in full when a scan is due at idle
                self._found, self._follow = [Detection(b) for b in boxes], boxes or self._follow
                self._last_located = now
                return self._found  # else every followed face was lost: scan the whole frame now
        elif not full and not self._follow and since < self.idle_interval:
            return []
        self._found = detect(gray, settings, known=self._follow)
        self._follow = [d.box for d in self._found]
        self._last_full = self._last_located = now
        return self._found


def follow_faces(gray: np.ndarray, previous: Sequence[Box], settings: DetectorSettings) -> list[Box]:
    """Re-detect each previous face in a window around its box; returns the faces found, largest first.

    Each window (the box widened by ``FOLLOW_PAD`` per side) is scanned by the first pass's cascade alone
    with ``FOLLOW_NEIGHBORS`` neighbours (no second look: the face was checked when it was found),
    scaled so the face is ~``FOLLOW_FACE_PX`` wide; the hit overlapping the previous box most is kept,
    and framed exactly as :func:`fer.detection.detector.detect_faces` frames boxes.
    """
    height, width = gray.shape[:2]
    found: list[Box] = []
    for x, y, w, h in previous:
        side = max(w, h) / (1.0 + 2.0 * settings.margin)  # back to the cascade's own (unframed) size
        pad = int(round(max(w, h) * FOLLOW_PAD))
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
        if x0 >= x1 or y0 >= y1:
            continue
        local = replace(
            settings,
            min_size=max(1, int(FOLLOW_MIN_SCALE * side)),
            min_face_fraction=0.0,
            scan_windows=FOLLOW_FACE_PX * FOLLOW_MIN_SCALE / cascade_window(settings.cascade_file),
            max_side=max(CASCADE_WINDOW, int(round(FOLLOW_FACE_PX * max(x1 - x0, y1 - y0) / side))),
            verify=False,
            min_neighbors=FOLLOW_NEIGHBORS,
        )
        hits = [
            frame_box(raw, gray.shape, settings.margin)
            for raw in detect_in_region(gray, (x0, y0, x1 - x0, y1 - y0), local)
        ]
        if hits:
            best = max(hits, key=lambda b, prev=(x, y, w, h): iou(b, prev))
            if iou(best, (x, y, w, h)) > 0:
                found.append(best)
    return order_boxes(found)  # two followed faces that converged on one face are kept once
