"""Video files in and out with PyAV: upright, size-capped frames streamed from bytes, H.264 written back.

Reading decodes packet by packet from the uploaded bytes (``io.BytesIO``) or a path, so memory does
not grow with the video's length, and nothing is copied to disk. Every frame is delivered upright
(the rotation a phone stores in the file's display matrix is applied) and, for large videos, on a
copy scaled so its longer side is at most ``ANALYSIS_MAX_SIDE`` (faces in 4K are large: detection
on the copy finds them ~9x cheaper). Timestamps are taken from each frame, so variable frame rate
videos keep their true times.

Writing is :mod:`fer.video.writer`'s job.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import av.error
import cv2
import numpy as np

#: Frames whose longer (upright) side exceeds this are analysed, and written, at this size.
ANALYSIS_MAX_SIDE = 1280
#: 8-bit formats whose first plane is the luma (Y) channel, read directly as the grey image.
_LUMA_FORMATS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "yuv440p"}
#: Limited-range luma (16..235) to full-range grey: what swscale's gray conversion computes, ~5x cheaper.
_LIMITED_TO_FULL = np.clip(np.round((np.arange(256) - 16) * 255.0 / 219.0), 0, 255).astype(np.uint8)

VideoSource = bytes | bytearray | memoryview | BinaryIO | str | os.PathLike


class VideoError(ValueError):
    """A file that cannot be analysed as a video; the message names the file and says why."""


@dataclass(frozen=True)
class VideoInfo:
    """What the file says about itself, and the size frames are delivered at."""

    name: str
    width: int  # delivered (upright, possibly scaled) frame size
    height: int
    source_width: int  # upright size in the file
    source_height: int
    rotation: int  # degrees counter-clockwise applied to show the frames upright (0, 90, 180, -90)
    fps: float  # average frame rate (0 when unknown)
    duration_s: float | None  # None when the container does not say
    frames_hint: int  # frame count from the header (0 when unknown)
    codec: str
    audio_codec: str | None

    @property
    def scaled(self) -> bool:
        return (self.width, self.height) != (self.source_width, self.source_height)

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "source_width": self.source_width,
            "source_height": self.source_height,
            "rotation": self.rotation,
            "fps": round(self.fps, 3),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "codec": self.codec,
            "audio_codec": self.audio_codec,
        }


class Frame:
    """One decoded frame: its index and time, and its pixels upright at the delivered size (lazily)."""

    def __init__(self, frame: av.VideoFrame, index: int, t: float, reader: VideoReader) -> None:
        self.index = index
        self.t = t  # seconds since the video's first frame
        self.pts = frame.pts
        self._frame = frame
        self._reader = reader

    def gray(self) -> np.ndarray:
        """uint8 [H, W] grey, upright, at the delivered size (the luma plane when the format allows)."""
        frame = self._sized()
        if frame.format.name in _LUMA_FORMATS:
            plane = frame.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : frame.width]
            full_range = frame.format.name.startswith("yuvj") or frame.color_range == 2  # AVCOL_RANGE_JPEG
            gray = luma.copy() if full_range else cv2.LUT(luma, _LIMITED_TO_FULL)
        else:
            gray = frame.to_ndarray(format="gray")
        return _upright(gray, self._reader.info.rotation)

    def rgb(self) -> np.ndarray:
        """uint8 [H, W, 3] RGB, upright, at the delivered size."""
        return _upright(self._sized().to_ndarray(format="rgb24"), self._reader.info.rotation)

    def _sized(self) -> av.VideoFrame:
        info = self._reader.info
        if not info.scaled:
            return self._frame
        w, h = (info.height, info.width) if info.rotation in (90, -90) else (info.width, info.height)
        return self._frame.reformat(width=w, height=h)


class VideoReader:
    """An opened video file: ``info``, then ``frames()`` once, in order. Use as a context manager.

    Raises :class:`VideoError` for an empty file, a file FFmpeg cannot read, or one without a video
    track. A file that breaks off part-way (truncated, damaged) is read up to the break and
    ``damaged`` says what happened.
    """

    def __init__(self, source: VideoSource, name: str) -> None:
        self.name = name
        self.damaged: str | None = None
        self._file, self._size, self._owns_file = _as_file(source, name)
        try:
            self._container = self._open_container()
        except BaseException:
            self._close_file()
            raise
        demuxer = self._container.format.name
        if demuxer == "image2" or demuxer.endswith("_pipe"):  # FFmpeg reads a photo as a 1-frame video
            self.close()
            kind = demuxer.removesuffix("_pipe").upper()
            raise VideoError(f"{name} is an image ({kind}), not a video: use the Upload page for photos.")
        if not self._container.streams.video:
            kinds = sorted({s.type for s in self._container.streams})
            self.close()
            if not kinds:
                raise VideoError(f"{name} contains no video frames (an empty container).")
            what = "an audio-only file" if kinds == ["audio"] else f"only {', '.join(kinds)}"
            raise VideoError(f"{name} has no video track ({what}).")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"  # decode on all cores while analysis runs
        audio = self._container.streams.audio
        self.audio_stream = audio[0] if audio else None
        self.info = self._probe()

    def _open_container(self) -> av.container.InputContainer:
        try:
            return av.open(self._file, mode="r")
        except av.error.EOFError:
            raise VideoError(f"{self.name} ends before its first frame (an empty or truncated video).") from None
        except (av.error.FFmpegError, OSError) as exc:
            raise VideoError(
                f"{self.name} cannot be read as a video: not a video file, or truncated or damaged ({reason(exc)})."
            ) from None

    def _close_file(self) -> None:
        if self._owns_file:
            self._file.close()

    def estimated_duration(self, t: float) -> float | None:
        """The video's length guessed from how much of the file was read to reach ``t`` seconds (for
        files whose header does not say, e.g. a browser-recorded WebM)."""
        position = self._file.tell()
        return t * self._size / position if position > 0 and t > 0 else None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()
        self._close_file()

    @property
    def video_stream(self) -> av.video.stream.VideoStream:
        return self._stream

    def frames(self, with_audio: bool = False) -> Iterator[Frame | av.Packet]:
        """Every frame in display order; with ``with_audio``, the audio packets too, in file order."""
        streams = [self._stream] + ([self.audio_stream] if with_audio and self.audio_stream else [])
        origin: int | None = None
        index = 0
        try:
            for packet in self._container.demux(*streams):
                if packet.stream.type == "audio":
                    if packet.dts is not None:
                        yield packet
                    continue
                for frame in packet.decode():
                    if origin is None:
                        origin = frame.pts if frame.pts is not None else 0
                    yield Frame(frame, index, self._seconds(frame, origin, index), self)
                    index += 1
        except av.error.FFmpegError as exc:
            self.damaged = f"decoding stopped after {index} frames: {reason(exc)}"

    def frame_at(self, t: float) -> np.ndarray:
        """RGB of the frame shown at ``t`` seconds (seek to the keyframe before, decode up to it)."""
        stream = self._stream
        start = stream.start_time or 0
        target = start + int(t / float(stream.time_base))
        self._container.seek(max(start, target), stream=stream, backward=True, any_frame=False)
        last: av.VideoFrame | None = None
        for packet in self._container.demux(stream):
            for frame in packet.decode():
                if last is not None and frame.pts is not None and frame.pts > target:
                    return Frame(last, 0, t, self).rgb()
                last = frame
        if last is None:
            raise VideoError(f"{self.name}: no frame at {t:.2f} s")
        return Frame(last, 0, t, self).rgb()

    def _seconds(self, frame: av.VideoFrame, origin: int, index: int) -> float:
        if frame.pts is None or frame.time_base is None:
            return index / self.info.fps if self.info.fps else float(index)
        return float((frame.pts - origin) * frame.time_base)

    def _probe(self) -> VideoInfo:
        stream = self._stream
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            raise VideoError(f"{self.name}: the video track has no picture size (damaged header?).")
        rotation = _rotation_of(self._container, stream)
        src_w, src_h = (ctx.height, ctx.width) if rotation in (90, -90) else (ctx.width, ctx.height)
        width, height = _fit_even(src_w, src_h, ANALYSIS_MAX_SIDE)
        rate = stream.average_rate or stream.guessed_rate
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            duration = self._container.duration / av.time_base
        return VideoInfo(
            name=self.name,
            width=width,
            height=height,
            source_width=src_w,
            source_height=src_h,
            rotation=rotation,
            fps=float(rate) if rate else 0.0,
            duration_s=duration,
            frames_hint=int(stream.frames or 0),
            codec=ctx.name,
            audio_codec=self.audio_stream.codec_context.name if self.audio_stream else None,
        )


def _as_file(source: VideoSource, name: str) -> tuple[BinaryIO, int, bool]:
    """(seekable file object, its size, whether we opened it). Bytes are wrapped without a copy; a
    path is opened here (not by FFmpeg) so the read position tells how far the decoding got."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise VideoError(f"{name} is empty (0 bytes).")
        return io.BytesIO(source), len(source), True
    if isinstance(source, (str, os.PathLike)):
        try:
            size = Path(source).stat().st_size
            file = open(source, "rb")  # closed by VideoReader.close
        except OSError as exc:
            raise VideoError(f"{name} cannot be read: {exc.strerror or exc}.") from None
        if size == 0:
            file.close()
            raise VideoError(f"{name} is empty (0 bytes).")
        return file, size, True
    position = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(position)
    if size - position <= 0:
        raise VideoError(f"{name} is empty (0 bytes).")
    return source, size, False


def _rotation_of(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """The display-matrix rotation of the first frame, snapped to a multiple of 90 degrees."""
    rotation = 0
    try:
        for frame in container.decode(stream):
            rotation = int(frame.rotation or 0)
            break
        container.seek(stream.start_time or 0, stream=stream, backward=True, any_frame=False)
    except av.error.FFmpegError:
        pass  # reading the frames later reports the damage
    rotation = int(round(rotation / 90.0)) * 90
    return {270: -90, -270: 90, -180: 180}.get(rotation, rotation)


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate counter-clockwise by ``rotation`` degrees, as the display matrix asks."""
    if rotation == 90:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if rotation == -90:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if rotation == 180:
        return cv2.rotate(image, cv2.ROTATE_180)
    return image


def _fit_even(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size scaled so the longer side is at most ``max_side``, both sides even (H.264's 4:2:0)."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def reason(exc: BaseException) -> str:
    """FFmpeg's message without the errno and the '<none>' file name PyAV adds for in-memory files."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).rstrip(".")
