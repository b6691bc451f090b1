"""Can this browser use a camera on this page? Answered before START, in plain words.

Browsers expose the camera only to *secure contexts*: pages served over HTTPS, or from the user's own
computer (``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``[::1]``). Opened at the "Network URL"
Streamlit prints (``http://192.168.x.y:8501``), the page gets no camera API at all and
streamlit-webrtc shows "navigator.mediaDevices is undefined". streamlit-webrtc reports nothing of the
browser's camera errors to Python (its component value only carries the playing state and the SDP
offer), so a tiny component here asks the browser itself: ``window.isSecureContext``, the number of
cameras (``enumerateDevices``) and the camera permission; it reports again when a camera is plugged
in or the permission changes. Before it has reported (first run, or AppTest), the page URL decides.

The decision (:func:`camera_problem`) and the URL rule (:func:`is_secure_origin`) are plain functions,
tested without a browser.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import streamlit as st

#: Reports {secure, media, cameras, permission} into the component's "browser" state value.
_PROBE_JS = """
export default function(component) {
  const { setStateValue } = component;
  const media = navigator.mediaDevices;
  let active = true;
  let permissionStatus = null;
  async function report() {
    const state = {
      secure: window.isSecureContext === true,
      media: !!(media && media.getUserMedia),
      cameras: null,
      permission: "unknown",
    };
    if (media && media.enumerateDevices) {
      try {
        const devices = await media.enumerateDevices();
        state.cameras = devices.filter((d) => d.kind === "videoinput").length;
      } catch (e) {}
    }
    if (navigator.permissions && navigator.permissions.query) {
      try {
        if (permissionStatus === null) {
          permissionStatus = await navigator.permissions.query({ name: "camera" });
          permissionStatus.onchange = () => { if (active) report(); };
        }
        state.permission = permissionStatus.state;
      } catch (e) {}
    }
    if (active) setStateValue("browser", state);
  }
  report();
  if (media && media.addEventListener) media.addEventListener("devicechange", report);
  return () => {
    active = false;
    if (permissionStatus !== null) permissionStatus.onchange = null;
    if (media && media.removeEventListener) media.removeEventListener("devicechange", report);
  };
}
"""

_PROBE = st.components.v2.component("fer_camera_probe", js=_PROBE_JS)

#: streamlit-webrtc's own messages inside its video box, in plain words (its ``translations``).
WEBRTC_TRANSLATIONS = {
    "media_api_not_available": "This browser gives no camera access to this page (it needs HTTPS or localhost).",
    "device_ask_permission": "Please allow this page to use your camera.",
    "device_not_available": "No camera found, or another program is using it.",
    "device_access_denied": "Camera access was denied. Allow it in the browser's site settings, then reload.",
}


@dataclass(frozen=True)
class BrowserCamera:
    """What the browser reported about its camera support (None: not reported / unknown)."""

    secure: bool | None = None
    media_api: bool | None = None
    cameras: int | None = None
    permission: str = "unknown"  # "granted", "denied", "prompt" or "unknown"

    @classmethod
    def from_state(cls, state: Any) -> BrowserCamera | None:
        """Parse the probe's state value; None when there is none yet or it is malformed."""
        if not isinstance(state, dict):
            return None
        cameras = state.get("cameras")
        return cls(
            secure=bool(state["secure"]) if "secure" in state else None,
            media_api=bool(state["media"]) if "media" in state else None,
            cameras=int(cameras) if isinstance(cameras, int | float) else None,
            permission=str(state.get("permission") or "unknown"),
        )


@dataclass(frozen=True)
class CameraProblem:
    """Why the camera cannot work here, and what to do: shown instead of the browser's raw error."""

    kind: str  # "insecure", "no_api", "no_camera" or "denied"
    title: str
    advice: str
    blocks_streaming: bool  # True when pressing START cannot work at all


def is_secure_origin(url: str | None) -> bool | None:
    """Whether browsers treat ``url``'s origin as secure (camera allowed); None when there is no URL.

    The W3C Secure Contexts rule: https/wss, or a loopback host (``localhost``, ``*.localhost``,
    ``127.0.0.0/8``, ``::1``). Chromium and Firefox follow it, so ``http://127.0.0.2`` is secure too.
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("https", "wss"):
        return True
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def camera_problem(browser: BrowserCamera | None, url: str | None) -> CameraProblem | None:
    """The first reason the camera cannot be used on this page, or None when nothing is known to be wrong."""
    secure = browser.secure if browser is not None and browser.secure is not None else is_secure_origin(url)
    if secure is False:
        return _insecure(url)
    if browser is None:
        return None
    if browser.media_api is False:
        return CameraProblem(
            "no_api",
            "This browser offers no camera access to web pages.",
            "Use a current Chrome, Edge, Firefox or Safari, or analyse photos on the Upload page.",
            blocks_streaming=True,
        )
    if browser.permission == "denied":
        return CameraProblem(
            "denied",
            "Camera access is blocked for this site.",
            "Allow the camera in the browser's site settings (the camera or lock icon in the address bar); "
            "this page notices the change by itself. Until then you can analyse photos on the Upload page.",
            blocks_streaming=False,
        )
    if browser.cameras == 0:
        return CameraProblem(
            "no_camera",
            "No camera found on this device.",
            "Connect a camera (or close the program using it): this page notices it by itself. Without a "
            "camera, upload photos on the Upload page.",
            blocks_streaming=False,
        )
    return None


def _insecure(url: str | None) -> CameraProblem:
    parts = urlsplit(url or "")
    opened = f"`{parts.scheme}://{parts.netloc}`" if parts.netloc else "this address"
    https = f"`https://{parts.netloc}`" if parts.netloc else "the same address with `https://`"
    port = parts.port or 8501
    return CameraProblem(
        "insecure",
        "Your browser blocks the camera on this address.",
        f"Browsers let a web page use the camera only over HTTPS or on the computer that runs the app. "
        f"This page was opened at {opened}, which is neither. Either open `http://localhost:{port}` on the "
        f"computer running the app, or start the app with `make run-https` there and open {https} on this "
        "device (accept the certificate warning once). Photos still work here: use the Upload page.",
        blocks_streaming=True,
    )


def browser_camera(key: str = "camera_probe") -> BrowserCamera | None:
    """Mount the (invisible) probe and return the browser's latest report, if any."""
    result = _PROBE(key=key, default={"browser": None}, on_browser_change=lambda: None)
    return BrowserCamera.from_state(result.get("browser") if result is not None else None)


def page_url() -> str | None:
    """The URL the browser shows for this app (None outside a browser session, e.g. in AppTest)."""
    try:
        return st.context.url
    except Exception:  # older Streamlit or no session
        return None


def show_problem(problem: CameraProblem) -> None:
    """The problem as a warning box with a link to the Upload page."""
    st.warning(f"**{problem.title}** {problem.advice}", icon=":material/no_photography:")
