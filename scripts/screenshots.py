"""Regenerate the README screenshots: docs/screenshots/{home,upload,evaluation}.png.

Starts the dashboard on port 8599, drives it with Playwright in the system Chromium (never downloads a
browser: set CHROMIUM_PATH if it is not /usr/bin/chromium), then stops the server. Needs FER2013 for
the evaluation shot (FER2013_DIR or ../shared/fer2013) and a portrait (FER_FACES_DIR or ../shared/faces).

    python -m scripts.screenshots            # SCREENSHOTS_PORT=8597 if port 8599 is busy
"""

from __future__ import annotations

import io
import os
import socket
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from fer.locations import faces_dir
from serve.app_server import CHROMIUM_ARGS, chromium_path, running_app

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
PORT = int(os.environ.get("SCREENSHOTS_PORT", "8599"))  # another port if 8599 is taken
URL = f"http://127.0.0.1:{PORT}"
#: Generous: the first page load loads the model (LiteRT), the first evaluation predicts.
TIMEOUT_MS = 240_000
VIEWPORT = {"width": 1400, "height": 900}
HEADINGS = {"Upload": "Upload photos", "Evaluation": "Evaluation on FER2013"}


def portrait() -> Path:
    return faces_dir() / "astronaut.png"


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def settle(page: Page) -> None:
    """Wait until the script run is over (no 'Running…' widget) and charts have drawn."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)


def open_app(page: Page, attempts: int = 5) -> None:
    """Load the app until its own navigation shows.

    With a ``pages/`` folder beside app.py, Streamlit may serve the first session of a fresh server with
    its legacy folder navigation (pages listed by file name, app.py not run) before app.py's
    st.navigation takes over; a reload then gets the real app.
    """
    nav = page.locator('[data-testid="stSidebarNav"]')
    for _ in range(attempts):
        page.goto(URL)
        page.get_by_text("PrivateTest top-1").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        if nav.get_by_text("Live webcam", exact=True).count():
            return
    sys.exit("the app's navigation never appeared (Streamlit kept its pages/ folder navigation)")


def go_to(page: Page, title: str) -> None:
    """Navigate like a user, through the sidebar (one session, so settings and caches are kept)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.locator("h1").filter(has_text=HEADINGS[title]).first.wait_for(timeout=TIMEOUT_MS)
    settle(page)


def shoot(page: Page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its own container, so grow the viewport to it."""
    height = page.evaluate(
        '() => Math.max(...Array.from(document.querySelectorAll(\'[data-testid="stMain"], '
        '[data-testid="stAppViewContainer"], section\')).map(e => e.scrollHeight))'
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(int(height) + 40, VIEWPORT["height"]), 6000)})
    settle(page)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    print(f"wrote {path.relative_to(REPO)}")


def home(page: Page) -> None:
    open_app(page)
    shoot(page, "home")


def pair_png() -> bytes:
    """The portrait beside its mirror image: two numbered faces and a batch of two photos to show."""
    from PIL import Image, ImageOps

    face = Image.open(portrait()).convert("RGB")
    pair = Image.new("RGB", (face.width * 2, face.height))
    pair.paste(face, (0, 0))
    pair.paste(ImageOps.mirror(face), (face.width, 0))
    buffer = io.BytesIO()
    pair.save(buffer, "PNG")
    return buffer.getvalue()


def upload(page: Page) -> None:
    go_to(page, "Upload")
    page.locator('input[type="file"]').first.set_input_files(
        [
            {"name": "two_astronauts.png", "mimeType": "image/png", "buffer": pair_png()},
            {"name": portrait().name, "mimeType": "image/png", "buffer": portrait().read_bytes()},
        ]
    )
    page.get_by_text("faces found").first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT_MS)
    settle(page)
    shoot(page, "upload")


def evaluation(page: Page) -> None:
    go_to(page, "Evaluation")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Split").click()
    page.get_by_role("option", name="PublicTest", exact=True).click()
    page.get_by_text("on PublicTest from").first.wait_for(timeout=TIMEOUT_MS)
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=TIMEOUT_MS)
    page.locator(".js-plotly-plot").nth(2).wait_for(timeout=TIMEOUT_MS)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no red focus ring
    page.mouse.move(5, VIEWPORT["height"] - 5)
    settle(page)
    shoot(page, "evaluation")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    if not portrait().is_file():
        sys.exit(f"portrait not found: {portrait()} (set FER_FACES_DIR)")
    if port_in_use(PORT):
        sys.exit(f"port {PORT} is busy: stop whatever listens there, or set SCREENSHOTS_PORT to a free port")
    with tempfile.TemporaryDirectory() as tmp, running_app(PORT, Path(tmp) / "streamlit.log", timeout_s=240):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)
            try:
                for step in (home, upload, evaluation):
                    step(page)
            except Exception:
                debug = OUT / "failed.png"
                page.screenshot(path=str(debug))
                print(f"failed; the page as it was is in {debug.relative_to(REPO)}", file=sys.stderr)
                raise
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
