"""Cheap identities of FER2013 data: of a source on disk (for caches) and of decoded faces (for cards).

A source's fingerprint never reads pixels: a cache is found in milliseconds, and any change to the
files (added, removed, rewritten) changes it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

#: Bumped when the decoded-array cache format changes: old caches are then ignored.
CACHE_VERSION = 1


def source_fingerprint(source: Path) -> str:
    """A cheap identity of a CSV file or folder tree: path + sizes + mtimes, never the pixel data.

    For a folder, each class folder's mtime and entry count stand for its files, so adding, removing or
    renaming a face changes the fingerprint without stat-ing 35,887 files.
    """
    source = source.resolve()
    h = hashlib.sha256(f"v{CACHE_VERSION}|{source}".encode())
    if source.is_file():
        st = source.stat()
        h.update(f"|{st.st_size}|{st.st_mtime_ns}".encode())
    else:
        # Only the folders load_split reads (the root, train/ and test/, their class folders), in os.walk's
        # order: a wrong path (a home folder, "/") costs a few stats instead of a walk of everything
        # beneath it, and no deep tree can exhaust the stack. Entry types come from the directory
        # listing: no stat of the 35,887 faces.
        for folder in _layout_folders(source):
            try:
                with os.scandir(folder) as entries:
                    is_dir = [entry.is_dir() for entry in entries]
                st = os.stat(folder)
            except OSError:
                continue  # unreadable: load_split says so when it gets there
            rel = os.path.relpath(folder, source)
            h.update(f"|{rel}|{st.st_mtime_ns}|{sum(is_dir)}|{len(is_dir) - sum(is_dir)}".encode())
    return h.hexdigest()[:16]


def _layout_folders(root: Path) -> list[Path]:
    """``root``, its split folders and their class folders: FER2013's image-folder layout, nothing deeper."""
    folders = [root]
    for name in ("test", "train"):  # fer.data reads Training from train/, both test splits from test/
        split_dir = root / name
        if not split_dir.is_dir():
            continue
        folders.append(split_dir)
        try:
            folders.extend(sorted(p for p in split_dir.iterdir() if p.is_dir()))
        except OSError:
            pass
    return folders


def content_fingerprint(images: np.ndarray, labels: np.ndarray) -> str:
    h = hashlib.sha256(images.tobytes())
    h.update(labels.astype(np.int64).tobytes())
    return h.hexdigest()[:16]
