"""Where a visitor may point the app: paths typed in the UI are read only inside the configured data roots.

The app may be served to other devices (``make run-https``, replicas), so a typed path is hostile input: a
path outside the roots is refused with one message that says nothing about what exists there, and nothing
read from it is ever shown. The roots are ``FER_DATA_ROOTS`` (folders separated by ``os.pathsep``) when set;
otherwise the folder holding the configured FER2013 data (``FER2013_DIR`` or ``../shared/fer2013``) and the
shared data folder beside the checkout (``../shared``: FER2013 in both forms, the real photos).
The command line (``python -m fer``) is run by the machine's own user and is not limited.
"""

from __future__ import annotations

import os
from pathlib import Path

from fer.data import DatasetError, default_data_dir
from fer.locations import shared_dir

#: The longest typed path accepted (Linux's PATH_MAX): longer text is refused before touching the disk.
MAX_PATH_CHARS = 4096
ENV = "FER_DATA_ROOTS"


class OutsideDataRoots(DatasetError):
    """A typed path the app will not read; the message is safe to show (it never echoes the path)."""


def data_roots() -> list[Path]:
    """The folders a visitor's typed paths may point into, resolved (symlinks followed)."""
    configured = os.environ.get(ENV, "")
    if configured.strip():
        roots = [Path(p).expanduser() for p in configured.split(os.pathsep) if p.strip()]
    else:
        roots = [shared_dir()]
        data = default_data_dir()
        if data is not None:
            roots.append(data.parent if data.is_file() else data)
    out: list[Path] = []
    for root in roots:
        resolved = root.resolve()
        if resolved.is_dir() and resolved not in out and resolved != Path(resolved.anchor):
            out.append(resolved)  # the filesystem root itself is never a data root
    return out


def inside_roots(path: Path, roots: list[Path] | None = None) -> bool:
    """True when ``path`` (resolved, symlinks followed) is one of the roots or below one."""
    resolved = path.resolve()
    return any(resolved == r or r in resolved.parents for r in (data_roots() if roots is None else roots))


def visitor_path(text: str) -> Path | None:
    """The path a visitor typed, if the app may read it; ``None`` for empty input.

    Raises :class:`OutsideDataRoots` for anything else: control characters, overlong text, a path outside
    the roots (``../``, ``/etc/passwd``, ``/tmp``, ``~``, a symlink leading out), all with the same message.
    """
    text = text.strip()
    if not text:
        return None
    refusal = OutsideDataRoots(
        "this location is outside the data folders this app is configured to read. Ask whoever runs the app "
        f"to add it to `{ENV}` (or to set `FER2013_DIR`), or upload the file instead."
    )
    if len(text) > MAX_PATH_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise refusal
    path = Path(text).expanduser()
    roots = data_roots()
    if not path.is_absolute():  # relative text is read against the first root, never the server's cwd
        if not roots:
            raise refusal
        path = roots[0] / path
    try:
        allowed = inside_roots(path, roots)
    except (OSError, RuntimeError, ValueError):  # symlink loops, names the OS rejects
        raise refusal from None
    if not allowed:
        raise refusal
    return path.resolve()
