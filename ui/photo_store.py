"""The photos a user gave this session (uploaded or taken) and their analyses: in memory only, never on
disk, kept across page switches."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ui.widget_state import forget_saved

_PHOTOS = "_session_photos"


@dataclass(frozen=True)
class StoredPhoto:
    """A photo the user gave this session (uploaded or taken), kept in memory only, never on disk."""

    name: str
    data: bytes
    digest: str  # sha256 of the bytes: the cache key of its analysis
    source: str = "upload"  # "upload" or "camera"

    @property
    def key(self) -> str:
        """Identity in the store: the same bytes under the same name are one photo."""
        return f"{self.digest[:16]}:{self.name}"


def session_photos() -> dict[str, StoredPhoto]:
    """This session's photos, in the order they were added (survives page switches, never on disk)."""
    return st.session_state.setdefault(_PHOTOS, {})


def add_photo(photo: StoredPhoto) -> None:
    session_photos().setdefault(photo.key, photo)


def remove_photo(key: str) -> None:
    """Forget a photo, its analyses and its kept per-photo choices (widget keys start with its key)."""
    session_photos().pop(key, None)
    _results().pop(key, None)
    forget_saved(key)


def clear_photos() -> None:
    for key in list(session_photos()):
        remove_photo(key)


_RESULTS = "_session_results"


def _results() -> dict[str, dict[Hashable, Any]]:
    return st.session_state.setdefault(_RESULTS, {})


def remembered_result(photo_key: str, settings_key: Hashable, compute: Callable[[], Any]) -> Any:
    """The analysis of a stored photo under these settings, computed once and kept for the session.

    Only the latest few settings per photo are kept, so toggling back and forth is instant while the
    memory stays bounded by the photos in the store.
    """
    per_photo = _results().setdefault(photo_key, {})
    if settings_key not in per_photo:
        per_photo[settings_key] = compute()
        while len(per_photo) > _RESULTS_PER_PHOTO:
            per_photo.pop(next(iter(per_photo)))
    return per_photo[settings_key]


#: Settings combinations remembered per photo (e.g. detected faces and whole-image mode, TTA on/off).
_RESULTS_PER_PHOTO = 4
