"""Emotions over time in a video file: faces tracked with stable ids through every frame or N a second.

:func:`analyse_video` streams the file (:mod:`fer.video.reader`) through the webcam's frame loop
(:class:`fer.stream.FaceStream`: faces found cheaply, tracked with ids, held through missed detections,
smoothed; in video time so results do not depend on the machine's speed), optionally writing the
annotated video. Decoding and face finding run one stage ahead in a worker thread, so the analysis
uses two cores. What it keeps per analysed frame is a few numbers per face in compact columns
(:class:`fer.video.result.VideoAnalysis`, 81 bytes a face row), never pixels, so memory stays flat however
long the video is. Frames between analysed ones are written with the last analysed boxes.

A face missed in more than ``fer.tracking.TRACK_MAX_MISSED`` analysed frames in a row (it left the
picture) takes its id back when it is found again near where it was lost within
``fer.tracking.REASSOCIATE_S`` (1 s); one gone longer gets a new id when it comes back.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from array import array
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from fer.classifier import Classifier
from fer.faces import FaceResult
from fer.labels import NUM_CLASSES
from fer.options import Options
from fer.overlay import annotate
from fer.stream import FaceStream
from fer.tracking import Tracked
from fer.video.reader import Frame, VideoError, VideoReader, VideoSource
from fer.video.result import VideoAnalysis
from fer.video.writer import AnnotatedWriter

#: Between analysed frames a face may move this many face widths and keep its id (the tracker's
#: ``max_shift``): enough for a person walking past at 2 analysed frames/s, less than the gap between
#: two people side by side.
TRACK_MAX_SHIFT = 1.0
#: Frames decoded and searched for faces ahead of the classification (see ``_in_a_thread``).
PIPELINE_DEPTH = 8
#: While no face is known, the whole frame is scanned at most this often (video seconds): footage
#: without faces (title cards, an empty room) would otherwise cost a full scan per frame, many times
#: the cost of following a known face. A face that walks in is therefore found within this time.
IDLE_SCAN_S = 0.25
#: The frame rate is called variable when more than 1 % of frame intervals differ from the nominal
#: one by more than this fraction.
VFR_TOLERANCE = 0.1

#: progress(seconds done, total seconds (estimated from the bytes read when the file does not say), frames)
Progress = Callable[[float, float | None, int], None]


class _Columns:
    """Growable typed columns (``array``): one entry per analysed frame, one row per face in it."""

    def __init__(self) -> None:
        self.sample_t = array("d")
        self.sample_frame = array("q")
        self.row_sample = array("q")
        self.row_id = array("q")
        self.row_box = array("q")  # 4 per row
        self.row_probs = array("f")  # 7 per row
        self.row_score = array("f")  # NaN: not scored
        self.row_followed = array("b")

    def add(self, frame: Frame, faces: list[FaceResult]) -> None:
        sample = len(self.sample_t)
        self.sample_t.append(frame.t)
        self.sample_frame.append(frame.index)
        for face in faces:
            self.row_sample.append(sample)
            self.row_id.append(face.track_id or 0)
            self.row_box.extend(int(v) for v in face.box)
            self.row_probs.extend(float(p) for p in face.probs)
            self.row_score.append(math.nan if face.score is None else face.score)
            self.row_followed.append(int(face.followed))


class _RateWatch:
    """Counts frame intervals that stray from the nominal one, to call the frame rate variable."""

    def __init__(self, fps: float) -> None:
        self.nominal = 1.0 / fps if fps > 0 else None
        self.last: float | None = None
        self.intervals = self.odd = 0
        self.shortest, self.longest = math.inf, 0.0

    def add(self, t: float) -> None:
        if self.last is not None:
            dt = t - self.last
            self.intervals += 1
            self.shortest, self.longest = min(self.shortest, dt), max(self.longest, dt)
            if self.nominal and abs(dt - self.nominal) > VFR_TOLERANCE * self.nominal:
                self.odd += 1
        self.last = t

    @property
    def variable(self) -> bool:
        return self.odd > max(2, 0.01 * self.intervals)


def analyse_video(
    source: VideoSource,
    name: str,
    classifier: Classifier,
    options: Options | None = None,
    *,
    out: str | os.PathLike | BinaryIO | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> VideoAnalysis:
    """Analyse a video file (bytes, a binary file or a path) and, with ``out``, write it annotated.

    Raises :class:`fer.video.reader.VideoError` (naming the file) when nothing can be analysed; a file that
    breaks off, or a stop asked for by ``should_stop``, gives the results up to that point.
    """
    options = options or Options()
    tta = options.resolve_tta(classifier)
    started = time.perf_counter()
    stream = FaceStream(
        smoothing=options.smoothing,
        redetect_interval=options.redetect_interval,
        idle_interval=IDLE_SCAN_S,
        max_shift=TRACK_MAX_SHIFT,
    )
    with VideoReader(source, name) as reader:
        info = reader.info
        columns, watch = _Columns(), _RateWatch(info.fps)
        writer = AnnotatedWriter(out, reader) if out is not None else None
        shown: list[FaceResult] = []
        decoded, cancelled, last_t = 0, False, 0.0
        located = _in_a_thread(_locate_faces(reader, options, stream, with_audio=writer is not None), PIPELINE_DEPTH)
        try:
            for item in located:
                if not isinstance(item, _Located):
                    writer.write_audio(item)
                    continue
                frame = item.frame
                decoded, last_t = decoded + 1, frame.t
                watch.add(frame.t)
                if item.faces is not None:  # an analysed frame
                    shown = stream.classify(item.gray, item.faces, classifier, tta=tta)
                    columns.add(frame, shown)
                if writer is not None:
                    writer.write(annotate(frame.rgb(), shown) if shown else frame.rgb(), frame)
                if progress is not None:
                    progress(frame.t, info.duration_s or reader.estimated_duration(frame.t), decoded)
                if should_stop is not None and should_stop():
                    cancelled = True
                    break
        finally:
            located.close()  # stops the decoding thread before the reader closes
            if writer is not None:
                writer.close()
        if decoded == 0:
            raise VideoError(f"{name} contains no video frames" + (f" ({reader.damaged})." if reader.damaged else "."))
        damaged = reader.damaged
    analysis = VideoAnalysis(
        info=info,
        options=options,
        sample_t=np.frombuffer(columns.sample_t, np.float64).copy(),
        sample_frame=np.frombuffer(columns.sample_frame, np.int64).copy(),
        row_sample=np.frombuffer(columns.row_sample, np.int64).copy(),
        row_id=np.frombuffer(columns.row_id, np.int64).copy(),
        row_box=np.frombuffer(columns.row_box, np.int64).reshape(-1, 4).copy(),
        row_probs=np.frombuffer(columns.row_probs, np.float32).reshape(-1, NUM_CLASSES).copy(),
        row_score=np.frombuffer(columns.row_score, np.float32).copy(),
        row_followed=np.frombuffer(columns.row_followed, np.int8).astype(bool),
        frames_decoded=decoded,
        seconds=time.perf_counter() - started,
        cancelled=cancelled,
        variable_rate=watch.variable,
        audio=writer.audio if writer is not None else "not written",
    )
    analysis.notes = _notes(analysis, watch, damaged, last_t)
    return analysis


@dataclass
class _Located:
    """A decoded frame, with its grey image and located faces when it is one of the analysed frames."""

    frame: Frame
    gray: np.ndarray | None = None
    faces: list[Tracked] | None = None


def _locate_faces(
    reader: VideoReader, options: Options, stream: FaceStream, *, with_audio: bool
) -> Iterator[_Located | object]:
    """Decode, pick the analysed frames and locate their faces (the first stage; audio packets pass through)."""
    slot = -1
    for item in reader.frames(with_audio=with_audio):
        if not isinstance(item, Frame):
            yield item
            continue
        if options.fps is not None:
            now = math.floor(item.t * options.fps + 1e-6)
            if now <= slot:
                yield _Located(item)
                continue
            slot = now
        gray = item.gray()
        yield _Located(item, gray, stream.locate(gray, item.t, options.detector))


def _in_a_thread(items: Iterator, depth: int) -> Generator:
    """Run an iterator in a worker thread, ``depth`` items ahead of the consumer.

    Detection (OpenCV) and decoding (FFmpeg) release the GIL, so finding faces in the next frames
    overlaps classifying, tracking and writing this one: the two halves of the work use both cores.
    Closing the returned generator stops the worker; an exception in the worker is raised here.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((done, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            buffer.put((done, exc))
        finally:
            getattr(items, "close", lambda: None)()  # in this thread, which ran it

    def consume() -> Generator:
        worker = threading.Thread(target=work, name="fer-video-decode", daemon=True)
        worker.start()
        try:
            while True:
                item, error = buffer.get()
                if item is done:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            stop.set()
            while worker.is_alive():  # let a blocked put() see the stop
                try:
                    buffer.get(timeout=0.1)
                except queue.Empty:
                    pass
            worker.join()

    return consume()


def _notes(analysis: VideoAnalysis, watch: _RateWatch, damaged: str | None, last_t: float) -> list[str]:
    """What the user should know about how this file was read, one sentence each."""
    info, notes = analysis.info, []
    if info.rotation:
        notes.append(f"The file asks for a {info.rotation}° rotation: frames are analysed and shown upright.")
    if info.scaled:
        notes.append(
            f"{info.source_width}×{info.source_height} video: faces are detected (and the annotated video "
            f"written) on a {info.width}×{info.height} copy."
        )
    if watch.variable:
        notes.append(
            f"Variable frame rate (frame intervals from {1000 * watch.shortest:.0f} to {1000 * watch.longest:.0f} ms): "
            "times are each frame's own timestamp, and the annotated video keeps them."
        )
    if damaged:
        notes.append(f"{info.name} is damaged or truncated ({damaged}); the results cover its first {last_t:.1f} s.")
    elif info.duration_s and not analysis.cancelled and last_t + 1.0 < info.duration_s - 2.0 / (info.fps or 30.0):
        notes.append(
            f"{info.name} ends at {last_t:.1f} s although its header says {info.duration_s:.1f} s (truncated?); "
            "the results cover what could be read."
        )
    if analysis.cancelled:
        notes.append(f"Cancelled at {last_t:.1f} s: the results cover the video up to there.")
    if analysis.audio.startswith("dropped"):
        notes.append(f"The annotated video has no sound: the audio track was {analysis.audio}.")
    if len(analysis.row_id) == 0:
        notes.append("No face was found in the analysed frames.")
    return notes
