"""Video files out with PyAV: the annotated H.264 MP4 of an analysed video, and test/benchmark clips.

:class:`AnnotatedWriter` encodes H.264 (libx264) into MP4 with the source's timestamps, hence its
frame rate; an audio track is copied when MP4 can hold it as it is (AAC, MP3, ...) and re-encoded to
AAC otherwise. :func:`encode_video` writes frames (and an optional tone) to MP4 bytes in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from typing import BinaryIO

import av
import av.error
import numpy as np

from fer.video.reader import Frame, VideoReader, reason

#: Audio codecs the MP4 muxer takes as they are; any other audio is re-encoded to AAC.
MP4_AUDIO = {"aac", "mp3", "mp3float", "alac", "ac3", "eac3", "opus", "flac"}
#: Encoder settings of the annotated video: "veryfast" measured ~as fast as "ultrafast" at 640x480
#: here, with files about half the size; CRF 23 is libx264's default quality.
H264_OPTIONS = {"preset": "veryfast", "crf": "23"}


class AnnotatedWriter:
    """H.264 MP4 of the frames handed in, with the source's timestamps and its audio track.

    ``dest`` is a path or a writable binary file (``io.BytesIO`` for the page's download).
    ``audio`` says what happened to the sound: "none", "copied", "re-encoded to AAC" or why it was
    dropped.
    """

    def __init__(self, dest: str | os.PathLike | BinaryIO, reader: VideoReader) -> None:
        info = reader.info
        self._out = av.open(dest, mode="w", format="mp4")
        source = reader.video_stream
        self._video = self._out.add_stream("libx264", rate=source.average_rate or Fraction(30))
        self._video.width, self._video.height = info.width, info.height
        self._video.pix_fmt = "yuv420p"
        self._video.time_base = source.time_base
        self._video.codec_context.time_base = source.time_base
        self._video.options = dict(H264_OPTIONS)
        self._time_base = source.time_base
        self._origin: int | None = None
        self._last_pts = -1
        self._audio_in = reader.audio_stream
        self._audio_out = None
        self._copy_audio = False
        self.audio = "none"
        if self._audio_in is not None:
            self._add_audio(self._audio_in)

    def _add_audio(self, stream: av.audio.stream.AudioStream) -> None:
        try:
            if stream.codec_context.name in MP4_AUDIO:
                self._audio_out = self._out.add_stream_from_template(stream)
                self._copy_audio, self.audio = True, "copied"
            else:
                self._audio_out = self._out.add_stream("aac", rate=stream.codec_context.sample_rate or 44100)
                self.audio = "re-encoded to AAC"
        except (av.error.FFmpegError, ValueError) as exc:
            self._audio_out, self.audio = None, f"dropped ({reason(exc)})"

    def write(self, rgb: np.ndarray, frame: Frame) -> None:
        """Encode one RGB frame at the source frame's time."""
        out = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: self._video.height, : self._video.width]), "rgb24")
        pts = frame.pts if frame.pts is not None else frame.index
        if self._origin is None:
            self._origin = pts
        out.pts = max(pts - self._origin, self._last_pts + 1)  # never repeat or go back: the muxer refuses
        out.time_base = self._time_base
        self._last_pts = out.pts
        self._out.mux(self._video.encode(out))

    def write_audio(self, packet: av.Packet) -> None:
        """Carry one audio packet of the source over (copied or re-encoded)."""
        if self._audio_out is None:
            return
        try:
            if self._copy_audio:
                packet.stream = self._audio_out
                self._out.mux(packet)
            else:
                for frame in packet.decode():
                    frame.pts = None  # the encoder's own sample count keeps AAC frames contiguous
                    self._out.mux(self._audio_out.encode(frame))
        except (av.error.FFmpegError, ValueError) as exc:
            self._audio_out, self.audio = None, f"dropped part-way ({reason(exc)})"

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        try:
            self._out.mux(self._video.encode(None))
            if self._audio_out is not None and not self._copy_audio:
                self._out.mux(self._audio_out.encode(None))
        finally:
            self._out.close()


def encode_video(
    dest: str | os.PathLike | BinaryIO,
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    times: Iterable[float] | None = None,
    rotation: int = 0,
    tone_hz: float | None = None,
    container: str = "mp4",
    codec: str = "libx264",
    audio_codec: str = "aac",
) -> int:
    """Write RGB frames as a video file; returns the number of frames. For synthetic test/benchmark clips.

    ``times`` gives each frame's own timestamp in seconds (variable frame rate); ``rotation`` stores a
    display matrix asking players to rotate by that many degrees counter-clockwise; ``tone_hz`` adds a
    mono sine tone as long as the video. Frames are consumed one at a time (a generator keeps memory flat).
    """
    time_base = Fraction(1, 1000) if times is not None else 1 / Fraction(fps).limit_denominator(1001)
    with av.open(dest, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.pix_fmt = "yuv420p"
        stream.time_base = stream.codec_context.time_base = time_base
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        if rotation:
            stream.set_display_rotation(rotation)
        tone = _Tone(out, audio_codec, tone_hz) if tone_hz is not None else None
        stamps = iter(times) if times is not None else None
        n = 0
        for rgb in frames:
            if n == 0:
                stream.height, stream.width = rgb.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            t = next(stamps) if stamps is not None else n / fps
            frame.pts, frame.time_base = int(round(t / time_base)), time_base
            out.mux(stream.encode(frame))
            if tone is not None:
                tone.until(t + 1.0 / fps)  # interleaved, so the length need not be known in advance
            n += 1
        out.mux(stream.encode(None))
        if tone is not None:
            tone.close()
    return n


class _Tone:
    """A mono sine tone written alongside the video frames, up to a given time."""

    RATE = 48000

    def __init__(self, out: av.container.OutputContainer, codec: str, hz: float) -> None:
        self._out, self._hz, self._done = out, hz, 0
        self._stream = out.add_stream(codec, rate=self.RATE, layout="mono")

    def until(self, seconds: float) -> None:
        step = self._stream.codec_context.frame_size or 1024
        while self._done + step <= seconds * self.RATE:
            t = (self._done + np.arange(step)) / self.RATE
            frame = av.AudioFrame.from_ndarray(
                (0.2 * np.sin(2 * np.pi * self._hz * t)).astype(np.float32)[None, :], format="flt", layout="mono"
            )
            frame.sample_rate, frame.pts = self.RATE, self._done
            self._out.mux(self._stream.encode(frame))
            self._done += step

    def close(self) -> None:
        self._out.mux(self._stream.encode(None))
