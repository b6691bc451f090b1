"""The Evaluation page's "Your labelled photos" source: the photo pipeline scored on the user's own faces.

The engine is :mod:`fer.evaluation.photo_eval` (as ``python -m fer evaluate --photos DIR``), so the figures match
the CLI. A zip upload is read in memory only; results are kept in this session's memory (never on disk)
for the last few sources, so toggling settings back is instant.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

from fer.classifier import Classifier
from fer.data import DatasetError
from fer.data_roots import visitor_path
from fer.detection.settings import DetectorSettings
from fer.evaluation.photo_eval import (
    NO_FACE,
    PhotoEvaluation,
    PhotoSet,
    evaluate_photos,
    open_photo_set,
    photo_set_from_zip,
)
from fer.labels import CLASS_NAMES
from fer.options import Options
from ui.charts import CHART_CONFIG, confusion_figure
from ui.plain_text import plain, plain_message
from ui.results import enlarge, pct

_RESULTS_KEY = "photo_eval_results"
_KEEP = 3  # evaluations kept per session
MISTAKES_LIMIT = 24
GALLERY_PX = 96
HOW_TO = """
**How to evaluate on your own photos:** put them in one folder per emotion — `angry`, `disgust`, `fear`,
`happy`, `sad`, `surprise`, `neutral` (synonyms such as `anger`, `happiness`, `sadness`, `surprised` work too) —
then type the parent folder's path above, or zip it and upload the .zip. Every photo goes through the same
pipeline as the Upload page (detection, the tight-crop fallback, the model); the largest face's emotion is
compared with its folder. Same figures as `python -m fer evaluate --photos FOLDER`.
"""


def show_photo_evaluation(classifier: Classifier, detector: DetectorSettings, tta: bool) -> None:
    """The whole "Your labelled photos" section: source inputs, run, figures and galleries."""
    path_text = st.text_input(
        "Folder of labelled photos",
        key="photos_path",
        placeholder="/path/to/my-photos (one sub-folder per emotion)",
        help="A folder with one sub-folder per emotion; read where it is, nothing is copied.",
    )
    upload = st.file_uploader(
        "…or upload it as a .zip", type=["zip"], key="photos_zip", help="Read in memory, never saved or unpacked."
    )
    try:
        photos = _open(path_text, upload)
    except (DatasetError, OSError) as exc:
        st.error(f"**These photos cannot be used.** {plain_message(exc)}", icon=":material/block:")
        return
    if photos is None:
        st.markdown(HOW_TO)
        return
    if upload is not None and path_text.strip():
        st.info(
            "The uploaded zip is evaluated; the typed folder is ignored while a zip is loaded (remove it to "
            "use the folder).",
            icon=":material/info:",
        )
    ev = _evaluation(photos, _source_key(photos, upload), classifier, detector, tta)
    st.caption(
        f"`{classifier.name}` on {ev.report.n:,} photos from {plain(photos.source)}"
        + (" (uploaded)" if upload is not None else "")
        + f", mirror TTA {'on' if tta else 'off'} (sidebar). Same numbers as `python -m fer evaluate --photos "
        + ("PATH/TO/THAT.zip`." if upload is not None else f"{photos.source}`.")
    )
    show_photo_report(ev)


def _open(path_text: str, upload) -> PhotoSet | None:  # noqa: ANN001 - streamlit UploadedFile
    if upload is not None:
        return photo_set_from_zip(upload.getvalue(), upload.name)
    path = visitor_path(path_text)  # raises OutsideDataRoots (a DatasetError) outside the data roots
    return None if path is None else open_photo_set(path)


def _source_key(photos: PhotoSet, upload) -> str:  # noqa: ANN001
    """Identifies the photos' content: the zip's hash, or the folder's file names, sizes and times."""
    h = hashlib.sha256()
    if upload is not None:
        h.update(upload.getvalue())
    else:
        root = Path(photos.source)
        for photo in photos.photos:
            stat = (root / photo.name).stat()
            h.update(f"{photo.name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return h.hexdigest()


def _evaluation(
    photos: PhotoSet, source_key: str, classifier: Classifier, detector: DetectorSettings, tta: bool
) -> PhotoEvaluation:
    """The evaluation for these photos and settings, from this session's memory when already run."""
    key = f"{source_key}|{classifier.sha256}|{detector}|{tta}"
    kept: dict[str, PhotoEvaluation] = st.session_state.setdefault(_RESULTS_KEY, {})
    if key not in kept:
        bar = st.progress(0.0, text=f"Analysing {len(photos):,} photos…")
        kept[key] = evaluate_photos(
            photos,
            classifier,
            Options(detector=detector, tta=tta),
            progress=lambda done, total: bar.progress(done / total, f"Analysed {done:,}/{total:,} photos"),
        )
        bar.empty()
        while len(kept) > _KEEP:
            kept.pop(next(iter(kept)))
    return kept[key]


def show_photo_report(ev: PhotoEvaluation) -> None:
    """Found-rate, top-1/top-2 over all photos and over found faces, per-class recall, confusion, mistakes."""
    rep = ev.report
    if rep.unknown_folders:
        st.warning(
            f"Skipped folders that name no emotion: {', '.join(f'`{f}`' for f in rep.unknown_folders)}. "
            f"Use {', '.join(CLASS_NAMES)} or a synonym (anger, happiness, sadness…)."
        )
    if rep.skipped:
        st.warning(f"{len(rep.skipped)} file(s) skipped, not images: " + "; ".join(rep.skipped[:5]))
    if rep.n == 0:
        st.error("No readable photo in these folders.")
        return
    cols = st.columns(4)
    cols[0].metric("Face found", pct(rep.found_rate, 1), border=True, help="Detector or padded retry; not whole-image.")
    cols[1].metric("Top-1 (all photos)", pct(rep.top1), border=True, help="No face found counts as wrong.")
    cols[2].metric("Top-2 (all photos)", pct(rep.top2), border=True)
    cols[3].metric("Photos", f"{rep.n:,}", border=True)
    cols = st.columns(4)
    cols[0].metric("Top-1 (found faces)", "–" if rep.top1_found is None else pct(rep.top1_found), border=True)
    cols[1].metric("Top-2 (found faces)", "–" if rep.top2_found is None else pct(rep.top2_found), border=True)
    cols[2].metric("Read whole / no face", f"{rep.whole_image} / {rep.no_face}", border=True)
    cols[3].metric("Time per photo", f"{rep.ms_per_photo:.0f} ms", border=True)

    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Confusion matrix** of the photos with a face (rows: folder, columns: predicted)")
        matrix = np.asarray(rep.confusion)[:, : len(CLASS_NAMES)]
        normalise = st.toggle("Row-normalised", key="photos_norm")
        st.plotly_chart(confusion_figure(matrix, normalise), key="photos_confusion", config=CHART_CONFIG)
    with right:
        st.markdown("**Per class** (recall over all photos of the folder)")
        st.dataframe(
            [
                {
                    "emotion": name,
                    "recall": rep.per_class[name]["recall"],
                    "photos": rep.per_class[name]["support"],
                    NO_FACE: row[-1],
                }
                for name, row in zip(CLASS_NAMES, rep.confusion)
            ],
            hide_index=True,
            placeholder="—",  # a class without photos has no recall (not "None")
            column_config={"recall": st.column_config.NumberColumn("recall", format="%.3f")},
        )
    show_photo_galleries(ev)


def show_photo_galleries(ev: PhotoEvaluation) -> None:
    """The most confident mistakes (the face the model saw), and the photos where no face was found."""
    wrong = [o for o in ev.outcomes if o.probs is not None and o.predicted != o.label]
    wrong.sort(key=lambda o: -float(o.probs.max()))
    st.subheader("Most confident mistakes", anchor=False)
    if not wrong:
        st.success("No face was read wrong.")
    else:
        shown = wrong[:MISTAKES_LIMIT]
        st.image(
            [enlarge(o.crop, GALLERY_PX) for o in shown],
            caption=[
                f"{CLASS_NAMES[o.label]} → {CLASS_NAMES[o.predicted]} {o.probs.max():.0%}"
                + ("" if o.source == "detector" else f" ({o.source})")
                for o in shown
            ],
            width=GALLERY_PX,
        )
    missing = [o.name for o in ev.outcomes if o.probs is None]
    if missing:
        with st.expander(f"{len(missing)} photo(s) where no face was found"):
            st.markdown("\n".join(f"- {plain(name)}" for name in missing[:200]))
