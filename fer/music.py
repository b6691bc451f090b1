"""Mood music: a short clip for an emotion, from the user's own files or synthesised in memory.

The user may drop audio files into ``music/<emotion>/`` (e.g. ``music/happy/song.mp3``; the folder is
``$FER_MUSIC_DIR`` when set). Without any, every emotion still gets a few seconds of music made here
with numpy (a chord progression, tempo and timbre chosen per mood) and encoded as a WAV in memory,
so the feature works offline, out of the box, and nothing is downloaded or written to disk.
"""

from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer.labels import CLASS_NAMES

#: Audio formats the major browsers play in an <audio> element, by file suffix (MIME type for the page).
BROWSER_AUDIO: dict[str, str] = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
}
SAMPLE_RATE = 22_050
CLIP_SECONDS = 8.0
#: Ignore user files larger than this (a page plays them from memory).
MAX_FILE_BYTES = 30_000_000


def music_dir() -> Path:
    """Where the user's clips live: ``$FER_MUSIC_DIR``, else ``music/`` beside the ``fer`` package."""
    env = os.environ.get("FER_MUSIC_DIR")
    return Path(env).expanduser() if env else Path(__file__).resolve().parent.parent / "music"


def user_clips(emotion: str, root: Path | None = None) -> list[Path]:
    """The playable files in ``<root>/<emotion>/`` (folder name in any case), sorted by name."""
    if emotion not in CLASS_NAMES:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(CLASS_NAMES)}")
    base = root if root is not None else music_dir()
    try:
        folders = [p for p in base.iterdir() if p.is_dir() and p.name.lower() == emotion]
    except OSError:  # no music folder (the default) or unreadable
        return []
    clips = []
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        clips += [
            p
            for p in entries
            if p.is_file() and p.suffix.lower() in BROWSER_AUDIO and 0 < p.stat().st_size <= MAX_FILE_BYTES
        ]
    return sorted(clips, key=lambda p: p.name.lower())


def mime_type(path: Path) -> str:
    """MIME type of a playable clip, from its suffix."""
    return BROWSER_AUDIO[path.suffix.lower()]


# ----------------------------------------------------------------------------- synthesis
@dataclass(frozen=True)
class Style:
    """How an emotion sounds: chords (semitones above A3), tempo, timbre and dynamics."""

    chords: tuple[tuple[int, ...], ...]
    bpm: float
    notes_per_beat: int  # arpeggio speed
    timbre: str  # "soft", "bright", "bell", "harsh" or "pad"
    tremolo_hz: float = 0.0
    detune: float = 0.0  # semitones between two slightly detuned voices (unease)
    volume: float = 0.5


#: One style per emotion: major and quick for happy, slow minor for sad, low and distorted for angry...
STYLES: dict[str, Style] = {
    "happy": Style(((3, 7, 10, 15), (10, 14, 17, 22), (0, 3, 7, 12), (5, 8, 12, 17)), 132, 2, "bright"),
    "sad": Style(((0, 3, 7, 12), (5, 8, 12, 17), (-2, 2, 5, 10), (0, 3, 7, 12)), 66, 1, "soft", volume=0.45),
    "angry": Style(((-17, -10, -5), (-15, -8, -3), (-17, -10, -5), (-14, -7, -2)), 150, 4, "harsh", volume=0.4),
    "fear": Style(((0, 3, 6, 9), (1, 4, 7, 10), (0, 3, 6, 9), (-1, 2, 5, 8)), 84, 2, "pad", tremolo_hz=7.0),
    "surprise": Style(((3, 7, 10, 15), (5, 9, 12, 17), (7, 11, 14, 19), (8, 12, 15, 20)), 120, 4, "bell"),
    "disgust": Style(((0, 1, 6), (-1, 0, 5), (0, 1, 6), (2, 3, 8)), 72, 1, "pad", detune=0.3, volume=0.4),
    "neutral": Style(((3, 7, 10, 14), (8, 12, 15, 19), (3, 7, 10, 14), (10, 14, 17, 21)), 90, 1, "soft"),
}
_A3_HZ = 220.0


def synth_clip(emotion: str, seconds: float = CLIP_SECONDS, rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit WAV of ``seconds`` of music in the style of ``emotion``, built in memory."""
    if emotion not in STYLES:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(CLASS_NAMES)}")
    return wav_bytes(render(STYLES[emotion], seconds, rate), rate)


def render(style: Style, seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The samples (float32 in [-1, 1]): each chord lasts a bar of 4 beats, played as an arpeggio over a pad."""
    n = int(seconds * rate)
    out = np.zeros(n, np.float32)
    beat = 60.0 / style.bpm
    bar = 4 * beat
    step = beat / style.notes_per_beat
    t_bar = 0.0
    index = 0
    while t_bar < seconds:
        chord = style.chords[index % len(style.chords)]
        bass_and_chord = [_hz(chord[0] - 12)] + [_hz(s) for s in chord]
        _add(out, _tone(bass_and_chord, bar, style, rate, pad=True), t_bar, rate)
        t_note = t_bar
        k = 0
        while t_note < min(t_bar + bar, seconds):
            note = chord[k % len(chord)] + (12 if (k // len(chord)) % 2 else 0)
            _add(out, _tone([_hz(note)], step * 0.95, style, rate), t_note, rate)
            t_note += step
            k += 1
        t_bar += bar
        index += 1
    fade = min(n, int(0.4 * rate))
    out[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    peak = float(np.abs(out).max()) or 1.0
    return (out / peak * style.volume).astype(np.float32)


def _hz(semitones: float) -> float:
    return _A3_HZ * 2.0 ** (semitones / 12.0)


def _tone(freqs: list[float], duration: float, style: Style, rate: int, pad: bool = False) -> np.ndarray:
    """One note or chord with its timbre and envelope; a pad is quieter and swells instead of striking."""
    t = np.arange(int(duration * rate), dtype=np.float32) / rate
    wave_ = np.zeros_like(t)
    for f in freqs:
        for shift in (0.0, style.detune) if style.detune else (0.0,):
            phase = 2 * np.pi * f * 2.0 ** (shift / 12.0) * t
            wave_ += _timbre(phase, style.timbre)
    wave_ /= max(1, len(freqs))
    if pad:
        envelope = np.minimum(1.0, t / 0.3) * np.minimum(1.0, (duration - t) / 0.3) * 0.35
    elif style.timbre == "bell":
        envelope = np.exp(-t * 4.0)
    else:
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * 2.5)
    if style.tremolo_hz:
        envelope = envelope * (0.75 + 0.25 * np.sin(2 * np.pi * style.tremolo_hz * t))
    return (wave_ * envelope).astype(np.float32)


def _timbre(phase: np.ndarray, timbre: str) -> np.ndarray:
    if timbre == "bright":  # a few harmonics: a plucked, cheerful sound
        return np.sin(phase) + 0.4 * np.sin(2 * phase) + 0.2 * np.sin(3 * phase)
    if timbre == "harsh":  # overdriven: odd harmonics through a soft clipper
        return np.tanh(3.0 * (np.sin(phase) + 0.5 * np.sin(3 * phase)))
    if timbre == "bell":
        return np.sin(phase) + 0.5 * np.sin(2.76 * phase) + 0.25 * np.sin(5.4 * phase)
    return np.sin(phase)  # "soft" and "pad": pure tones


def _add(out: np.ndarray, sound: np.ndarray, start_s: float, rate: int) -> None:
    """Mix ``sound`` into ``out`` from ``start_s`` on, cut at the end of ``out``."""
    start = int(start_s * rate)
    if start >= len(out):
        return
    end = min(len(out), start + len(sound))
    out[start:end] += sound[: end - start]


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Float samples in [-1, 1] as a mono 16-bit PCM WAV file, in memory."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()
