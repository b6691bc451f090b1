"""One video analysis running in a background thread, so the Video page can show progress and a Cancel
button, and keep the results in ``st.session_state`` while the user visits other pages.

No Streamlit here: the thread only calls the engine and sets plain attributes that the page reads
(single assignments, safe to read from another thread).
"""

from __future__ import annotations

import io
import logging
import threading
import time

from fer.classifier import Classifier
from fer.options import Options
from fer.video.analyse import analyse_video
from fer.video.reader import VideoError
from fer.video.result import VideoAnalysis

log = logging.getLogger(__name__)


class VideoJob:
    """Analyse ``data`` (an uploaded file's bytes) with ``options``; poll ``running``, ``fraction``, ``eta_s``."""

    def __init__(
        self, data: bytes, name: str, classifier: Classifier, options: Options, *, write_video: bool = True
    ) -> None:
        self.data = data  # kept: the frame scrubber decodes single frames from it
        self.name = name
        self.options = options
        self.write_video = write_video
        self.done_s = 0.0
        self.total_s: float | None = None
        self.frames = 0
        self.started = time.monotonic()
        self.finished: float | None = None
        self.analysis: VideoAnalysis | None = None
        self.video: bytes | None = None
        self.error: str | None = None
        self._classifier = classifier
        self.tta = options.resolve_tta(classifier)
        self.model = classifier.name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"video-{name}", daemon=True)

    def start(self) -> VideoJob:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop after the current frame; the results so far are kept."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the analysis ends (for tests and scripts); True when it has."""
        self._thread.join(timeout)
        return not self.running

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def cancelling(self) -> bool:
        return self._stop.is_set() and self.running

    @property
    def fraction(self) -> float:
        """Share of the video's duration done so far (0 when the file does not say how long it is)."""
        return min(1.0, self.done_s / self.total_s) if self.total_s else 0.0

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the speed so far (None until a little of the video is done)."""
        if self.fraction < 0.01:
            return None
        return self.elapsed_s * (1.0 - self.fraction) / self.fraction

    def _progress(self, t: float, total: float | None, frames: int) -> None:
        self.done_s, self.total_s, self.frames = t, total, frames

    def _run(self) -> None:
        out = io.BytesIO() if self.write_video else None
        try:
            self.analysis = analyse_video(
                self.data,
                self.name,
                self._classifier,
                self.options,
                out=out,
                progress=self._progress,
                should_stop=self._stop.is_set,
            )
            self.video = out.getvalue() if out is not None else None
        except VideoError as exc:
            self.error = str(exc)
        except Exception as exc:  # the page shows a message, never a traceback; the log keeps the details
            log.exception("video analysis of %s failed", self.name)
            self.error = f"{self.name} could not be analysed ({type(exc).__name__}: {exc})."
        finally:
            self.finished = time.monotonic()
