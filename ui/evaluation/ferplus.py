"""The Evaluation page's FER+ block: is it the model or the label?

Shows the figures of :class:`fer.evaluation.ferplus_eval.FerPlusReport` (the same as the ``"ferplus"`` block of
``python -m fer evaluate --json``): accuracy against the FERPlus annotators' majority, how often
FER2013's own label agrees with it, and per class how many of the model's mistakes are disputed labels.
"""

from __future__ import annotations

import streamlit as st

from fer.evaluation.ferplus_eval import FerPlusReport
from fer.labels import CLASS_NAMES
from ui.results import pct
from ui.widget_state import kept

FER2013, FERPLUS = "FER2013 labels", "FER+ majority"


def truth_switch() -> str:
    """The switch between scoring against FER2013's labels and the FER+ annotators' majority."""
    return st.segmented_control(
        "Score against",
        [FER2013, FERPLUS],
        required=True,
        key=kept("eval_truth", FER2013),  # the choice survives a visit to another page
        help="FER+ majority: the emotion most of the 10 FERPlus annotators chose, over the faces that have a clear "
        "one (FER2013's own labels disagree with it for about a third of the faces).",
    )


def show_ferplus_summary(fp: FerPlusReport, name: str) -> None:
    """Metric cards and the per-class table of disputed mistakes."""
    st.subheader("Is it the model or the label?", anchor=False)
    cols = st.columns(4)
    cols[0].metric("Top-1 vs FER+ majority", pct(fp.top1), border=True,
                   help=f"{fp.n:,} faces with a clear FER+ majority among the 7 emotions.")  # fmt: skip
    cols[1].metric("Top-2 vs FER+ majority", pct(fp.top2), border=True)
    cols[2].metric(
        "FER2013 label = FER+ majority",
        pct(fp.agree_with_fer2013),
        border=True,
        help="How often the dataset's own label is what most annotators chose: a ceiling on honest FER2013 accuracy.",
    )
    share = fp.disputed / fp.mistakes if fp.mistakes else 0.0
    cols[3].metric(
        "Disputed mistakes",
        f"{fp.disputed:,} of {fp.mistakes:,}",
        f"{share:.0%} of the mistakes",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Faces the model gets 'wrong' against FER2013 while agreeing with the FER+ majority.",
    )
    st.caption(
        f"`{name}` on the {fp.n:,} faces with a clear FER+ majority (strictly more votes than any other answer, "
        "contempt, unknown and not-a-face included). A disputed mistake is a FER2013 mistake where the model "
        "sides with the annotators."
    )
    st.dataframe(
        [
            {
                "emotion (FER2013 label)": name_,
                "faces": fp.per_class[name_]["faces"],
                "mistakes": fp.per_class[name_]["mistakes"],
                "disputed labels": fp.per_class[name_]["disputed"],
                "share disputed": _share(fp.per_class[name_]["disputed"], fp.per_class[name_]["mistakes"]),
                "label = FER+ majority": fp.per_class[name_]["agree_with_fer2013"],
            }
            for name_ in CLASS_NAMES
        ],
        hide_index=True,
        column_config={
            "share disputed": st.column_config.NumberColumn(format="percent"),
            "label = FER+ majority": st.column_config.NumberColumn(format="percent"),
        },
    )


def show_ferplus_comparison(reports: dict[str, FerPlusReport]) -> None:
    """Both models' FER+ figures side by side (model name -> report)."""
    st.markdown("**Against the FER+ majority**")
    st.dataframe(
        [
            {
                "model": name,
                "top-1 vs FER+": fp.top1,
                "top-2 vs FER+": fp.top2,
                "mistakes (FER2013)": fp.mistakes,
                "of which disputed": fp.disputed,
            }
            for name, fp in reports.items()
        ],
        hide_index=True,
        column_config={c: st.column_config.NumberColumn(format="percent") for c in ("top-1 vs FER+", "top-2 vs FER+")},
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
