"""Entry point of the FER2013 dashboard: ``streamlit run app.py``.

Draws the shared sidebar (model, detector, TTA) once, then runs the page chosen in the navigation.
"""

from __future__ import annotations

import streamlit as st

from ui.common import ensure_app_navigation, sidebar
from ui.widget_state import keep_widget_state

ensure_app_navigation()
st.set_page_config(page_title="FER2013 emotion dashboard", page_icon="🙂", layout="wide")

keep_widget_state()  # first: saves page widgets' values before Streamlit drops them on another page
sidebar()  # before the page runs, so every page reads the same settings via ui.common.current_settings()

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/live.py", title="Live webcam", icon=":material/videocam:"),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload:"),
    st.Page("pages/video.py", title="Video", icon=":material/movie:"),
    st.Page("pages/evaluation.py", title="Evaluation", icon=":material/monitoring:"),
]

st.navigation(PAGES).run()
