"""Mood music: synthesised clips are real, distinct WAVs made in memory; the user's own files are found."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from fer.labels import CLASS_NAMES
from fer.music import BROWSER_AUDIO, CLIP_SECONDS, SAMPLE_RATE, mime_type, synth_clip, user_clips


def _samples(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float64) / 32767, wav.getframerate()


@pytest.mark.parametrize("emotion", CLASS_NAMES)
def test_every_emotion_gets_an_audible_clip(emotion: str) -> None:
    samples, rate = _samples(synth_clip(emotion))
    assert rate == SAMPLE_RATE
    assert len(samples) == pytest.approx(CLIP_SECONDS * rate, abs=1)
    rms = float(np.sqrt(np.mean(samples**2)))
    assert 0.02 < rms < 0.6, rms  # audible, not clipping
    assert abs(samples[-10:]).max() < 0.01  # fades out instead of clicking


def test_moods_sound_different() -> None:
    spectra = {}
    for emotion in ("happy", "sad", "angry"):
        samples, rate = _samples(synth_clip(emotion))
        spectrum = np.abs(np.fft.rfft(samples))
        freqs = np.fft.rfftfreq(len(samples), 1 / rate)
        spectra[emotion] = float((spectrum * freqs).sum() / spectrum.sum())  # spectral centroid, Hz
    assert spectra["angry"] != pytest.approx(spectra["happy"], rel=0.1)
    assert spectra["sad"] < spectra["happy"], spectra  # slow, soft minor vs bright major


def test_unknown_emotion_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown emotion"):
        synth_clip("bored")


def test_user_clips_only_playable_files_of_that_mood(tmp_path: Path) -> None:
    happy = tmp_path / "Happy"  # folder names in any case
    happy.mkdir()
    (happy / "b song.MP3").write_bytes(b"ID3" + bytes(100))
    (happy / "a tune.ogg").write_bytes(b"OggS" + bytes(100))
    (happy / "notes.txt").write_text("not audio")
    (happy / "empty.wav").write_bytes(b"")
    (tmp_path / "sad").mkdir()
    (tmp_path / "sad" / "slow.flac").write_bytes(b"fLaC" + bytes(100))
    clips = user_clips("happy", tmp_path)
    assert [p.name for p in clips] == ["a tune.ogg", "b song.MP3"]
    assert [mime_type(p) for p in clips] == ["audio/ogg", "audio/mpeg"]
    assert user_clips("angry", tmp_path) == []
    assert user_clips("happy", tmp_path / "missing") == []


def test_every_browser_format_is_offered_in_any_case_and_others_are_not(tmp_path: Path) -> None:
    """Each format browsers play (upper-case suffixes too) is found with an audio MIME type; formats a
    browser cannot play (Windows Media, MIDI, AIFF) are never offered."""
    folder = tmp_path / "happy"
    folder.mkdir()
    for i, suffix in enumerate(BROWSER_AUDIO):
        (folder / f"{i:02d}{suffix.upper() if i % 2 else suffix}").write_bytes(b"x" * 10)
    for other in (".wma", ".mid", ".aiff"):
        (folder / f"zz{other}").write_bytes(b"x" * 10)
    clips = user_clips("happy", tmp_path)
    assert [p.suffix.lower() for p in clips] == list(BROWSER_AUDIO)
    assert all(mime_type(p).startswith("audio/") for p in clips)
