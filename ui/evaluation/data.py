"""The Evaluation page's data: FER2013 from a path or an uploaded CSV, cached, and the model run on it.

Decoding a split and evaluating it are cached per server (``st.cache_resource``/``st.cache_data``) and
by ``fer.evaluation.evaluate``'s probability cache on disk, so switching back to an evaluated split is instant.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from fer.classifier import Classifier
from fer.data import (
    DatasetError,
    SplitData,
    csv_row_problems,
    csv_text_from_bytes,
    load_split,
    read_csv_bytes,
)
from fer.evaluation.evaluate import Evaluation, evaluate
from fer.ferplus import SplitVotes, split_votes
from fer.fingerprints import source_fingerprint
from fer.results import digest
from ui.common import with_progress
from ui.plain_text import plain, plain_message


@st.cache_resource(max_entries=4, show_spinner="Decoding FER2013 faces (first time only)…")
def _load_path(path: str, split: str, fingerprint: str) -> SplitData:
    """One decoded split per source version (``fingerprint`` changes when the files do)."""
    return load_split(path, split)


@st.cache_data(ttl=60, max_entries=16, show_spinner="Checking the FER2013 files…")
def _fingerprint(path: str) -> str:
    """The source's fingerprint, re-checked at most once a minute (it stats every file of a folder tree)."""
    return source_fingerprint(Path(path))


@st.cache_resource(max_entries=2, show_spinner="Reading the uploaded CSV…")
def _load_csv(content_hash: str, split: str, name: str, _data: bytes) -> SplitData:
    """One split of an uploaded CSV, parsed in memory and cached per file content."""
    return read_csv_bytes(_data, split, name=name)


def load_data(path: Path | None, upload: UploadedFile | None, split: str) -> SplitData | None:
    """The chosen split from the uploaded CSV (if any) or the typed path (already checked by
    :func:`fer.data_roots.visitor_path`); None when there is no data there.

    Raises DatasetError for data that exists but cannot be read.
    """
    if upload is not None:
        data = upload.getvalue()
        return _load_csv(digest(data), split, upload.name, data)
    if path is None:
        return None
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        st.info(f"No FER2013 data at {plain(path)} (the path {'is empty' if path.exists() else 'does not exist'}).")
        return None
    return _load_path(str(path), split, _fingerprint(str(path)))


def run_evaluation(classifier: Classifier, data: SplitData, tta: bool, persist: bool) -> Evaluation:
    """``fer.evaluation.evaluate`` with a progress bar (instant when its cache already holds this split).

    ``persist`` is False for an uploaded CSV: its predictions stay in memory, never in the disk cache.
    """
    return with_progress(
        f"Predicting {len(data):,} faces…",
        lambda done, total: f"Predicted {done:,}/{total:,}",
        lambda progress: evaluate(classifier, data, tta, progress=progress, persist=persist),
    )


@st.cache_data(max_entries=4, show_spinner="Checking every row of the CSV…")
def _csv_problems(content_key: str, name: str, _text: str | None) -> dict[str, list[str]]:
    """Bad rows per split of an uploaded CSV (``_text``) or a CSV file (``name`` is its path), cached per version."""
    return csv_row_problems(name, text=_text)


def warn_other_splits(path: Path | None, upload: UploadedFile | None, split: str) -> None:
    """Bad rows in the splits not shown now, as a warning with their line numbers (this split loaded fine)."""
    if upload is not None:
        data = upload.getvalue()
        try:
            problems = _csv_problems(digest(data), upload.name, csv_text_from_bytes(data, upload.name))
        except DatasetError:
            return  # already reported by the load
    else:
        if path is None or not path.is_file():
            return  # image folders: each file is checked as its split is loaded
        problems = _csv_problems(_fingerprint(str(path)), str(path), None)
    others = [msg for other, found in problems.items() if other != split for msg in found]
    if others:
        shown = "\n".join(f"- {plain_message(msg)}" for msg in others[:10])
        more = f"\n- … and {len(others) - 10} more" if len(others) > 10 else ""
        st.warning(
            f"**{len(others)} bad row(s) in other splits** of this CSV (not used for {split}; picking their split "
            f"will fail until they are fixed):\n{shown}{more}",
            icon="⚠️",
        )


@st.cache_resource(max_entries=4, show_spinner="Matching FER+ votes to the faces (first time only)…")
def _votes(path: str, split: str, fingerprint: str) -> SplitVotes | None:
    """FER+ votes aligned with one split of one source version."""
    return split_votes(path, split)


def load_votes(path: Path | None, upload: UploadedFile | None, data: SplitData) -> SplitVotes | None:
    """FER+ votes for the faces on show, or None (said why in a caption) when there are none to use.

    An uploaded CSV gets none: matching its rows to the voted files needs the image folders on disk,
    and its faces are never written there.
    """
    if upload is not None:
        st.caption("FER+ votes are matched for FER2013 on disk only, not for an uploaded CSV.")
        return None
    if path is None:
        return None
    try:
        votes = _votes(str(path), data.split, _fingerprint(str(path)))
    except (DatasetError, OSError) as exc:
        st.caption(f"No FER+ figures: {plain_message(exc)}")
        return None
    if votes is None:
        st.caption("No FER+ figures: no `ferplus.csv` beside the data (or set `FERPLUS_CSV`).")
        return None
    if len(votes.votes) != len(data):
        st.caption(f"No FER+ figures: {len(votes.votes):,} vote rows for {len(data):,} faces.")
        return None
    return votes
