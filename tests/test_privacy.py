"""Privacy and offline operation: the app reaches no network, writes no upload to disk, phones no one home.

1. A full session (model load, upload, evaluation) through AppTest with every way of opening a network
   connection patched to record and refuse anything that is not loopback.
2. Uploads are decoded in memory: no file in the repository, the temp folder or anywhere this process
   writes (Python's audit hook sees every ``open`` for writing) appears or changes during an upload run.
3. Configuration: Streamlit's usage statistics are off, the live page's WebRTC default uses no STUN/TURN
   server, and no public STUN/TURN server is written anywhere in the app's sources.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import socket
import sys
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st
import streamlit_webrtc
from PIL import Image
from streamlit.testing.v1 import AppTest
from support.images import animated, encode
from support.pages import RUN_TIMEOUT

import ui.common
from ui.live.webrtc import parse_ice_servers

HOME, UPLOAD, EVALUATION, LIVE = "pages/home.py", "pages/upload.py", "pages/evaluation.py", "pages/live.py"


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


# ----------------------------------------------------------------------------- 1. no network


def _is_loopback(host: object) -> bool:
    if host is None or host in ("", b""):
        return True  # passive lookups (bind to any local address)
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # any other host name


def _local_address(address: object) -> bool:
    """AF_UNIX paths are local by nature; (host, port, ...) tuples must name a loopback host."""
    if isinstance(address, (str, bytes)):
        return True
    return isinstance(address, tuple) and bool(address) and _is_loopback(address[0])


@dataclass
class NetworkGuard:
    """What the app tried: every refused attempt, as 'function(address)'."""

    attempts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, what: str) -> None:
        with self.lock:
            self.attempts.append(what)


@pytest.fixture
def network_guard(monkeypatch: pytest.MonkeyPatch) -> NetworkGuard:
    """Patch socket's connect, connect_ex, sendto, create_connection and getaddrinfo to refuse non-loopback."""
    guard = NetworkGuard()
    blocked = "non-loopback network access is blocked by tests/test_privacy.py"
    real = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "sendto": socket.socket.sendto,
        "create_connection": socket.create_connection,
        "getaddrinfo": socket.getaddrinfo,
    }

    def connect(self, address):
        if not _local_address(address):
            guard.refuse(f"socket.connect({address!r})")
            raise OSError(errno.ENETUNREACH, blocked)
        return real["connect"](self, address)

    def connect_ex(self, address):
        if not _local_address(address):
            guard.refuse(f"socket.connect_ex({address!r})")
            return errno.ENETUNREACH
        return real["connect_ex"](self, address)

    def sendto(self, data, *args):
        address = args[-1]  # sendto(data, address) or sendto(data, flags, address)
        if not _local_address(address):
            guard.refuse(f"socket.sendto({address!r})")
            raise OSError(errno.ENETUNREACH, blocked)
        return real["sendto"](self, data, *args)

    def create_connection(address, *args, **kwargs):
        if not _local_address(address):
            guard.refuse(f"socket.create_connection({address!r})")
            raise OSError(errno.ENETUNREACH, blocked)
        return real["create_connection"](address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            guard.refuse(f"socket.getaddrinfo({host!r})")
            raise socket.gaierror(socket.EAI_NONAME, blocked)
        return real["getaddrinfo"](host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return guard


def test_full_session_makes_no_network_connection(
    repo_root: Path,
    astronaut_path: Path,
    fer2013_dir: Path,
    network_guard: NetworkGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FER2013_DIR", str(fer2013_dir))
    # Every cached resource (the classifier above all) is dropped, so the model loads inside the guard.
    ui.common._load_classifier.clear()
    st.cache_resource.clear()
    st.cache_data.clear()

    at = run(AppTest.from_file(str(repo_root / "app.py"), default_timeout=RUN_TIMEOUT))
    assert {m.label for m in at.metric} >= {"PrivateTest top-1"}  # home, with the loaded model's card

    run(at.switch_page(UPLOAD))
    at.file_uploader(key="upload_files").set_value([("astronaut.png", astronaut_path.read_bytes(), "image/png")])
    run(at)
    assert any(m.value == "**1 face found**" for m in at.markdown)

    run(at.switch_page(EVALUATION))
    at.selectbox(key="eval_split").set_value("PublicTest")
    run(at)
    assert {m.label: m.value for m in at.metric}["Faces"] == "3,589"
    assert not at.error

    assert network_guard.attempts == []

    # The guard itself works: these are refused and recorded (192.0.2.1 is a documentation address).
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(OSError):
            udp.sendto(b"x", ("192.0.2.1", 53))
        with pytest.raises(OSError):
            udp.connect(("192.0.2.1", 53))
    assert len(network_guard.attempts) == 4
    assert socket.getaddrinfo("localhost", 8501)  # loopback still resolves: a local server keeps working


# ----------------------------------------------------------------------------- 2. nothing written to disk

#: Skipped everywhere: tooling caches and the virtual environment.
SKIP_DIRS = {".venv", ".git", "__pycache__", ".pytest_cache", "test-artifacts", ".hypothesis", ".ruff_cache"}
#: Known noise, relative to the repository: a `python -m fer.train` run beside the tests (as on the
#: development machine, where training runs in the background) appends to its log and history and
#: writes checkpoints. The app never writes there; the audit hook below would still catch this process.
TRAINING_OUTPUTS = re.compile(r"^(logs/|models/[^/]+\.ckpt/|models/[^/]+\.history\.csv$)")
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


def listing(root: Path, skip: set[str] = SKIP_DIRS) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (path relative to it) with its size and mtime in ns."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                st_ = os.stat(path, follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile by another process
            files[os.path.relpath(path, root)] = (st_.st_size, st_.st_mtime_ns)
    return files


def changed(before: dict, after: dict) -> list[str]:
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)


@dataclass
class WriteRecorder:
    """Python audit hook: every file this process opens for writing, creates, renames or removes."""

    active: bool = False
    events: list[str] = field(default_factory=list)

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    EVENTS = {"os.rename", "os.replace", "os.remove", "os.mkdir", "os.truncate", "shutil.copyfile"}
    EVENTS |= {"tempfile.mkstemp", "tempfile.mkdtemp", "os.link", "os.symlink", "os.utime"}

    def __call__(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = args
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & self.WRITE_FLAGS)
            if writing and str(path) not in ("/dev/null", os.devnull):
                self.events.append(f"open({path!r}, {mode!r})")
        elif event in self.EVENTS:
            self.events.append(f"{event}{args!r}")


_RECORDER = WriteRecorder()
_HOOK_LOCK = threading.Lock()
_hooked = False


@pytest.fixture
def write_recorder() -> Iterator[WriteRecorder]:
    """The process-wide audit hook (hooks cannot be removed, so one is added once and toggled)."""
    global _hooked
    with _HOOK_LOCK:
        if not _hooked:
            sys.addaudithook(_RECORDER)
            _hooked = True
    _RECORDER.events.clear()
    yield _RECORDER
    _RECORDER.active = False


def uploads(astronaut_path: Path) -> list[tuple[str, bytes, str]]:
    portrait = Image.open(astronaut_path).convert("RGB")
    return [
        ("astronaut.png", astronaut_path.read_bytes(), "image/png"),
        ("holiday.jpg", encode(portrait.rotate(8), "JPEG", quality=90), "image/jpeg"),
        ("party.gif", animated([portrait, portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT)], "GIF"), "image/gif"),
        ("selfie.webp", encode(portrait.resize((300, 300)), "WEBP"), "image/webp"),
        ("broken.jpg", encode(portrait, "JPEG")[:5000], "image/jpeg"),
    ]


def traces(files: list[tuple[str, bytes, str]], astronaut_path: Path) -> list[bytes]:
    """Byte strings any copy of the uploads would contain: a slice of each file and of decoded pixels."""
    found = [data[len(data) // 2 : len(data) // 2 + 256] for _, data, _ in files]
    rgb = np.asarray(Image.open(astronaut_path).convert("RGB"))
    found.append(rgb[200].tobytes()[:256])  # a row of raw pixels (e.g. a saved .npy array)
    return found


def could_hold_upload(path: Path, marks: list[bytes]) -> bool:
    try:
        with open(path, "rb") as fh:
            data = fh.read(64 << 20)
    except OSError:
        return False  # gone, or not ours to read
    return data.startswith(IMAGE_MAGIC) or data[8:12] == b"WEBP" or any(m in data for m in marks)


def test_uploads_are_never_written_to_disk(
    repo_root: Path,
    astronaut_path: Path,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    write_recorder: WriteRecorder,
) -> None:
    files = uploads(astronaut_path)
    shared_tmp = Path(tempfile.gettempdir())
    # Everything this process asks the temp folder for lands in a private one, which must stay empty.
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    for var in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(var, str(private_tmp))
    assert tempfile.gettempdir() == str(private_tmp)

    at = run(AppTest.from_file(str(repo_root / "app.py"), default_timeout=RUN_TIMEOUT))
    run(at.switch_page(UPLOAD))
    repo_before, tmp_before = listing(repo_root), listing(shared_tmp)

    write_recorder.active = True
    at.file_uploader(key="upload_files").set_value(files)
    run(at)
    at.toggle(key="upload_all_details").set_value(True)  # several files: details are on demand
    run(at)
    for toggle in [t for t in at.toggle if t.key.endswith("_saliency")][:1]:
        toggle.set_value(True)  # saliency runs 121 occluded copies of the crop: still nothing written
        run(at)
    write_recorder.active = False

    repo_after, tmp_after = listing(repo_root), listing(shared_tmp)
    assert [e.value for e in at.subheader][: len(files)] == [name for name, _, _ in files]
    assert len(at.error) == 1 and "broken.jpg" in at.error[0].value
    assert any(c.startswith("What drove") for image in at.get("image") for c in image.captions)  # saliency ran

    assert write_recorder.events == []
    assert [p for p in changed(repo_before, repo_after) if not TRAINING_OUTPUTS.match(Path(p).as_posix())] == []
    assert listing(private_tmp) == {}
    # The shared temp folder also holds other processes' files (shells, other test sessions: pytest's
    # own base folder is there), so a change there only fails when it could be an upload: an image
    # file, or a file holding bytes of an uploaded file or of its decoded pixels.
    marks = traces(files, astronaut_path)
    suspects = [p for p in changed(tmp_before, tmp_after) if could_hold_upload(shared_tmp / p, marks)]
    assert suspects == []


def test_write_recorder_sees_writes(tmp_path: Path, write_recorder: WriteRecorder) -> None:
    """The audit hook used above is live: a write of any kind is recorded."""
    write_recorder.active = True
    (tmp_path / "a.txt").write_text("x")
    fd, name = tempfile.mkstemp(dir=tmp_path)
    os.close(fd)
    Image.new("RGB", (4, 4)).save(tmp_path / "b.png")
    write_recorder.active = False
    recorded = "\n".join(write_recorder.events)
    assert "a.txt" in recorded and "tempfile.mkstemp" in recorded and "b.png" in recorded


# ----------------------------------------------------------------------------- 3. configuration


def test_streamlit_usage_statistics_are_off(repo_root: Path) -> None:
    config = tomllib.loads((repo_root / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False


def test_default_ice_configuration_is_empty() -> None:
    assert parse_ice_servers(None) == [] and parse_ice_servers("") == []


def _live_page_recording_webrtc(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, list[dict]]:
    """The Live page under AppTest, with webrtc_streamer replaced by a recorder of its arguments (AppTest
    cannot run WebRTC)."""
    calls: list[dict] = []

    def fake_streamer(*args, **kwargs):
        calls.append(kwargs)
        return SimpleNamespace(state=SimpleNamespace(playing=False, signalling=False))

    monkeypatch.setattr(streamlit_webrtc, "webrtc_streamer", fake_streamer)
    at = run(AppTest.from_file(str(repo_root / "app.py"), default_timeout=RUN_TIMEOUT))
    return run(at.switch_page(LIVE)), calls


def test_live_page_uses_no_stun_or_turn_server_by_default(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without $FER_ICE_SERVERS the live page asks streamlit-webrtc for an empty ICE server list.

    An *empty* list matters: for a missing one (None) streamlit-webrtc fills in servers itself (Google's
    STUN, or TURN credentials fetched from Cloudflare, Twilio or Hugging Face when their keys are set).
    """
    monkeypatch.delenv("FER_ICE_SERVERS", raising=False)
    at, calls = _live_page_recording_webrtc(repo_root, monkeypatch)
    assert at.text_input(key="live_ice_servers").value == ""
    assert not at.error
    assert len(calls) == 1
    assert calls[0]["frontend_rtc_configuration"] == calls[0]["server_rtc_configuration"] == {"iceServers": []}
    assert calls[0].get("rtc_configuration") is None  # both sides given: streamlit-webrtc never fills in its own


def test_ice_servers_typed_by_a_viewer_reach_only_their_browser(repo_root: Path, monkeypatch: pytest.MonkeyPatch):
    """A viewer's STUN/TURN servers configure their browser; the server keeps the deployer's list, so a
    viewer cannot make the server contact a host of their choosing (issue 15, replicas review)."""
    monkeypatch.setenv("FER_ICE_SERVERS", "turn:turn.example.org:3478")
    at, calls = _live_page_recording_webrtc(repo_root, monkeypatch)
    at.text_input(key="live_ice_servers").set_value("stun:stun.example.net:3478")
    run(at)
    last = calls[-1]
    assert last["frontend_rtc_configuration"] == {"iceServers": [{"urls": "stun:stun.example.net:3478"}]}
    assert last["server_rtc_configuration"] == {"iceServers": [{"urls": "turn:turn.example.org:3478"}]}
    # That no STUN/TURN server is then contacted is asserted end to end, with no private API of
    # streamlit-webrtc, by test_full_session_makes_no_network_connection and the browser test.


#: stun:/turn: URLs naming a host; example.org/.com/.net and *.example are reserved for documentation.
ICE_URL = re.compile(r"\b(?:stuns?|turns?):(?://)?(?:[^@\s'\"`]+@)?([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
DOCUMENTATION_HOSTS = re.compile(r"(^|\.)example(\.(org|com|net))?$")
PUBLIC_SERVERS = ("stun.l.google.com", "l.google.com", "stun.services.mozilla.com", "openrelay.metered.ca", "twilio")


def test_no_public_stun_or_turn_server_in_the_sources(repo_root: Path) -> None:
    sources = [repo_root / "app.py", *sorted(p for d in ("fer", "ui", "pages") for p in (repo_root / d).rglob("*.py"))]
    sources.append(repo_root / ".streamlit" / "config.toml")
    assert len(sources) > 10
    hosts = {}
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for match in ICE_URL.finditer(text):
            if not DOCUMENTATION_HOSTS.search(match.group(1)):
                hosts[f"{path.relative_to(repo_root)}: {match.group(0)}"] = match.group(1)
        for name in PUBLIC_SERVERS:
            assert name not in text, f"{path}: mentions {name}"
    assert hosts == {}
    assert ICE_URL.search("x = 'stun:stun.l.google.com:19302'")  # the pattern does catch the usual default


def test_evaluating_uploaded_data_writes_no_cache(classifier, public_test, isolated_cache: Path) -> None:
    """An uploaded CSV's predictions stay in memory: ``persist=False`` leaves the disk cache untouched."""
    from fer.evaluation.evaluate import evaluate

    subset = public_test.subset(300, seed=7)
    evaluate(classifier, subset, tta=False, persist=False)
    assert not any(isolated_cache.rglob("*")), "nothing may be written for uploaded data"
    # the default (data read from disk) does write its cache, so the check above can fail
    evaluate(classifier, public_test.subset(300, seed=8), tta=False)
    assert any(isolated_cache.rglob("*.npz"))
