"""Batch analysis of whole folders: one row per face, resumable, on local processes or a Ray cluster.

``python -m fer batch DIR… --out results.csv|.parquet [--workers N | --ray [ADDRESS]] [--report report.html]``

Why it is built this way:

* **Nothing is lost.** Rows are appended to a CSV journal file by file as results arrive (the output
  itself for ``.csv``, ``OUT.journal.csv`` beside a ``.parquet``), flushed each time; a killed worker or
  an interrupted run loses no finished file, and a rerun with the same output skips every file already
  in the journal.
* **A bad file never aborts the batch.** It becomes a row with ``status="error"`` and the message; a
  photo without faces becomes one row with ``status="no face"``.
* **Same work, any executor.** :func:`file_rows` is the unit of work for both the local process pool
  (one classifier per process) and Ray Data (one classifier per actor, files read by the workers), so
  their rows are identical.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from fer.labels import CLASS_NAMES
from fer.options import Options
from fer.results import CSV_COLUMNS

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".pgm", ".ppm"})
#: The Upload page's / ``predict`` CSV columns (:data:`fer.results.CSV_COLUMNS`) plus the file's folder.
COLUMNS = ["path", "folder", *(c for c in CSV_COLUMNS if c != "path")]
#: Files handed to a worker at once: big enough to amortise inter-process traffic, small enough that an
#: interruption loses little and the progress bar moves.
CHUNK = 8


class BatchError(RuntimeError):
    """The batch cannot run at all (no input, unwritable output); per-file problems are rows instead."""


# ----------------------------------------------------------------------------- inputs and journal
def discover(roots: Iterable[Path]) -> list[Path]:
    """Every image file under ``roots`` (files are taken as given), sorted, without duplicates."""
    found: set[Path] = set()
    for root in roots:
        if root.is_file():
            found.add(root.resolve())
        elif root.is_dir():
            found.update(p.resolve() for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            raise BatchError(f"{root}: no such file or folder")
    return sorted(found)


def journal_path(out: Path) -> Path:
    """The CSV the rows are appended to: the output itself, or a journal beside a Parquet output."""
    return out if out.suffix.lower() == ".csv" else out.with_name(out.name + ".journal.csv")


def done_files(journal: Path) -> set[str]:
    """Paths already in the journal (their rows are complete: a file's rows are written together)."""
    if not journal.is_file():
        return set()
    with journal.open(newline="", encoding="utf-8") as fh:
        return {row["path"] for row in csv.DictReader(fh) if row.get("path")}


# ----------------------------------------------------------------------------- the unit of work
_worker_classifier = None


def _classifier(options: Options):  # noqa: ANN202 - fer.classifier.Classifier, imported lazily
    global _worker_classifier
    if _worker_classifier is None:
        import fer

        _worker_classifier = fer.load_model(options.model)
    return _worker_classifier


def file_rows(path: str, options: Options) -> list[dict]:
    """The rows of one file: one per face, or one saying why there is none. Never raises for bad files.

    The same photo pipeline and rows as ``predict`` and the Upload page's CSV (:mod:`fer.results`).
    """
    from fer.results import analyze_file, csv_rows

    result = analyze_file(Path(path), _classifier(options), options)
    return [{**row, "path": path, "folder": str(Path(path).parent)} for row in csv_rows(result)]


def _analyze_chunk(paths: list[str], options: Options) -> list[list[dict]]:
    return [file_rows(p, options) for p in paths]


# ----------------------------------------------------------------------------- executors
def run_local(paths: list[str], options: Options, workers: int) -> Iterator[list[dict]]:
    """Rows per file from a pool of ``workers`` processes (in-process when ``workers`` is 1)."""
    if workers <= 1:
        for p in paths:
            yield file_rows(p, options)
        return
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for per_file in pool.map(_analyze_chunk, chunks, [options] * len(chunks)):
            yield from per_file


class _RayAnalyzer:
    """A Ray Data actor: loads the classifier once, then analyses the files of each batch it gets."""

    def __init__(self, options: Options):
        self.options = options

    def __call__(self, batch: dict) -> dict:
        rows = [row for p in batch["path"] for row in file_rows(str(p), self.options)]
        return {c: [r.get(c) for r in rows] for c in COLUMNS}


def run_ray(paths: list[str], options: Options, address: str | None, workers: int) -> Iterator[list[dict]]:
    """Rows per file computed by Ray Data actors on a cluster (``address``) or a local Ray instance."""
    try:
        import ray
    except ImportError:
        raise BatchError("Ray is not installed: pip install -r requirements-scale.txt") from None
    if not ray.is_initialized():
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)  # fmt: skip
    ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=max(1, -(-len(paths) // CHUNK)))
    ds = ds.map_batches(
        _RayAnalyzer,
        fn_constructor_args=(options,),
        batch_size=CHUNK,
        concurrency=max(1, workers),
        batch_format="numpy",
    )
    # Group rows back per file (a file's rows stay in one batch), so the journal keeps whole files.
    current: list[dict] = []
    for row in ds.iter_rows():
        row = {c: row.get(c) for c in COLUMNS}
        if current and row["path"] != current[0]["path"]:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


# ----------------------------------------------------------------------------- driver
def run_batch(
    roots: list[Path],
    out: Path,
    options: Options,
    *,
    workers: int = 0,
    ray_address: str | None = None,
    use_ray: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Analyse every image under ``roots`` not yet in ``out``'s journal; returns counts.

    ``workers`` 0 means one per CPU core.
    """
    files = discover(roots)
    if not files:
        raise BatchError("no image files under " + ", ".join(str(r) for r in roots))
    journal = journal_path(out)
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        done = done_files(journal)
        fresh = not journal.exists() or journal.stat().st_size == 0
        fh = journal.open("a", newline="", encoding="utf-8")
    except OSError as exc:
        raise BatchError(f"cannot write {journal}: {exc.strerror or exc}") from None
    todo = [str(p) for p in files if str(p) not in done]
    workers = workers or os.cpu_count() or 1
    counts = {"files": len(files), "skipped_done": len(files) - len(todo), "analysed": 0, "faces": 0, "errors": 0}
    with fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        if fresh:
            writer.writeheader()
        rows_per_file = run_ray(todo, options, ray_address, workers) if use_ray else run_local(todo, options, workers)
        try:
            for rows in rows_per_file:
                writer.writerows(rows)
                fh.flush()
                counts["analysed"] += 1
                counts["faces"] += sum(r["status"] == "ok" for r in rows)
                counts["errors"] += sum(r["status"] == "error" for r in rows)
                if progress:
                    progress(counts["analysed"], len(todo))
        except BrokenProcessPool:
            raise BatchError(
                f"a worker process died after {counts['analysed']} of {len(todo)} files; their rows are saved "
                f"in {journal}: run the same command again to finish the rest"
            ) from None
    if out.suffix.lower() == ".parquet":
        write_parquet(journal, out)
    return counts


def read_rows(journal: Path) -> list[dict]:
    with journal.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_parquet(journal: Path, out: Path) -> None:
    """The journal as a typed Parquet file (pyarrow comes with Streamlit)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    types = {c: pa.float64() for c in ("confidence", "detection_score", *CLASS_NAMES)} | {
        c: pa.int64() for c in ("face", "x", "y", "w", "h")
    }
    table = pacsv.read_csv(journal, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True))
    pq.write_table(table, out)


def main_progress(total_hint: str = "file") -> Callable[[int, int], None]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal)."""
    from tqdm.auto import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit=total_hint, disable=not sys.stderr.isatty())
        bar.update(done - bar.n)
        if done == total:
            bar.close()

    return update
