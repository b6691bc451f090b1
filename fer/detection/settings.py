"""The detector's settings (:class:`DetectorSettings`) and the box type: what every scan reads, shared by
:mod:`fer.detection.haar` (the cascades) and :mod:`fer.detection.detector` (which composes the scans)."""

from __future__ import annotations

from dataclasses import dataclass

#: (x, y, w, h) in pixels of the original image.
Box = tuple[int, int, int, int]
#: Chosen by measurement (scripts/measure_detection.py, PublicTest-derived photos): see DetectorSettings.
CASCADE_FILE = "haarcascade_frontalface_alt2.xml"
#: The largest training window of OpenCV's bundled frontal cascades (the default cascade's; alt2's is
#: 20 px): a floor for any scanned copy. Each cascade's own window is :func:`fer.detection.haar.cascade_window`.
CASCADE_WINDOW = 24


@dataclass(frozen=True)
class DetectorSettings:
    """Haar cascade parameters; defaults measured by ``make bench-detection`` (docs/detection.md).

    The defaults: a lenient first pass down to 40 px faces, then a second look at each candidate. The
    previous one-pass detector (56 px) is ``fer.bench.latency.ISSUE12_DETECTOR``.
    """

    #: Pyramid step between scales of the (first) pass: 1.1 was the measured choice without the second
    #: look. With it (``make bench-detection``, two seeds), 1.2 found 2-2.5 points more of the wanted faces
    #: than 1.3 (48-56 px at 640x480: 92-100 % against 88-92 %) at ~1.35x the scan time; the second look
    #: scans at fer.detection.haar.VERIFY_SCALE_FACTOR.
    scale_factor: float = 1.2
    #: Overlapping raw hits needed to accept a face (the sidebar's sensitivity: 11 - this): in the second
    #: look's cascade, or in the one pass when ``verify`` is off. The first pass of a verified scan keeps
    #: every raw hit (fer.detection.haar.FIRST_PASS_NEIGHBORS) as a candidate: at 1 neighbour it lost a
    #: third of 40 px faces.
    min_neighbors: int = 5
    #: Smallest face reported, in pixels of the ORIGINAL image (the sidebar's px slider) ... the previous
    #: 56 px (chosen for speed) found 5 % of 40 px faces at 640x480; the second look made 40 px affordable.
    min_size: int = 40
    #: ... and as a fraction of the photo's short side: the larger of the two applies, so the
    #: minimum grows with big photos, where small false boxes on texture were deciding the mood.
    min_face_fraction: float = 0.03
    #: Longer side bound of the working copy the cascade scans. Within it (and ``max_scan_pixels``), the
    #: copy is as small as the minimum face allows (that face maps to ``scan_windows`` cascade windows),
    #: so cost follows the smallest face wanted, not the photo's size.
    max_side: int = 8192
    #: Candidates the first pass scores below this are dropped (``levelWeights`` of alt2's last stage,
    #: ~54..58; 54.8 is the threshold without a second look). With it, at 54.0 4 of 12 24 MP
    #: photos got a false box near the minimum size (scores 54.1-54.7); 54.5 removed them, and 55.0 lost
    #: a tenth of 40-48 px faces.
    min_score: float = 54.5
    #: Fraction of the face side added on every side of the square Haar box before cropping.
    #: Chosen by accuracy of the classifier on PublicTest-derived photos within 0.10..0.20
    #: (``scripts/measure_margin.py``), not by pixel similarity to FER2013's crops.
    margin: float = 0.10
    #: Histogram equalisation before detection. Measured: it adds false boxes and finds no more faces.
    equalize: bool = False
    #: Which of OpenCV's bundled frontal-face cascades scans (measured: see CASCADE_FILE).
    cascade_file: str = CASCADE_FILE
    #: The working copy is scaled so the minimum face is this many cascade windows wide (previously 1.2,
    #: 24 px for alt2's 20 px window). OpenCV slides the window in 2 px steps at
    #: pyramid levels below 2x (1 px above): 2 windows made 98 % of 40 px faces candidates instead of
    #: 92 %, at 1.9x the time, and no better recall over the whole table (1.5 neither).
    scan_windows: float = 1.0
    #: Area bound of the working copy (a bound on the long side alone shrinks a
    #: panorama's faces away): with 2 MP a 24 MP photo's copy (~1000x670 for its 3 %
    #: faces) is within it; a 30000x1000 panorama is scanned at ~7750x260 (its 40 px faces at 10 px:
    #: lost), not at 1024x34 (its 300 px faces lost).
    max_scan_pixels: int = 2_000_000
    #: A second look at each candidate, larger and in its surroundings, by another cascade
    #: (``verify_cascade``, ``min_neighbors``, ``verify_score``), then a third (``confirm_cascade``): they
    #: remove the false boxes of the lenient first pass instead of a larger minimum face.
    verify: bool = True
    #: The second look's minimum score (the default cascade's scale, ~0..10): with 5 neighbours, 3.0 kept
    #: 120 of 123 real faces and 1 of 76 false candidates of a stricter first pass.
    verify_score: float = 3.0
    #: The cascade of the second look: another of OpenCV's frontal cascades errs on other textures.
    verify_cascade: str = "haarcascade_frontalface_default.xml"
    #: A third opinion on each face the second look keeps: raw hits (neighbours) of ``confirm_cascade``
    #: needed on it, looked at the same way (0: off). ``make bench-detection`` (seed 20; seed 21 as a check):
    #: 2 cut false boxes in photos with faces from 5.2 to 2.3 per 100 (face-free: 3.3 to 0) for one face
    #: in 730 lost; on seed 21, 3 cut them to 0.8 (2.1 with 2) at 0.3 points of recall (chosen on that:
    #: seed 21 is not held out).
    confirm_neighbors: int = 3
    confirm_cascade: str = "haarcascade_frontalface_alt.xml"

    def __post_init__(self) -> None:
        """Reject values the cascade would misbehave with, at construction rather than per frame."""
        if not self.scale_factor > 1.0:
            raise ValueError(f"scale_factor must be > 1, got {self.scale_factor}")
        if self.min_neighbors < 0:
            raise ValueError(f"min_neighbors must be >= 0, got {self.min_neighbors}")
        if self.max_scan_pixels < CASCADE_WINDOW**2:
            raise ValueError(f"max_scan_pixels must be >= {CASCADE_WINDOW**2}, got {self.max_scan_pixels}")
        if not self.scan_windows > 0.0:
            raise ValueError(f"scan_windows must be > 0, got {self.scan_windows}")
        if self.min_size < 1 or self.max_side < CASCADE_WINDOW:
            raise ValueError(f"min_size must be >= 1 and max_side >= {CASCADE_WINDOW}")
        if not 0.0 <= self.min_face_fraction < 1.0:
            raise ValueError(f"min_face_fraction must be in [0, 1), got {self.min_face_fraction}")
        if not -0.5 < self.margin <= 2.0:
            raise ValueError(f"margin must be in (-0.5, 2], got {self.margin}")

    def min_face(self, width: int, height: int) -> int:
        """Smallest face reported in a ``width`` x ``height`` photo, in its pixels."""
        return max(self.min_size, int(round(self.min_face_fraction * min(width, height))))
