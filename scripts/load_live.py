"""Load-test the Live webcam page: N viewers in headless Chromium with fake cameras against 1..K servers.

    python -m scripts.load_live --viewers 3 --seconds 30            # = make load-live
    python -m scripts.load_live --viewers 3 --servers 2             # two server processes (replicas)
    python -m scripts.load_live --viewers 3 --server-cpus 0 --browser-cpus 1   # pinned: CPUs kept apart
    python -m scripts.load_live --viewers 0 --churn 15 --soak 600   # leak checks only

What a deployer runs before choosing a server size. It starts its own Streamlit server(s) on free ports
(viewers spread round-robin, as sticky sessions behind a proxy would), with ``FER_LIVE_PROFILE`` set so
each server writes its per-stage CPU time (:mod:`ui.live.profile`), then prints:

* **load**: each viewer's processed FPS (from the page's own frame counter) and input resolution;
  each server's CPU (cores), RSS, threads and open fds; the browsers' CPU, counted apart; and the
  server's CPU milliseconds per processed frame by stage (decode, convert, detect, classify, annotate,
  encode, the page's refreshes, and the rest: asyncio, RTP, SRTP, websockets).
* **churn**: ``--churn N`` tabs opened, streamed a few seconds and closed without STOP, one after another;
  RSS, threads and fds before, right after, and ``--settle`` seconds after the last close.
* **soak**: ``--soak S`` seconds of one viewer; FPS and RSS every 30 s, then the same settle check.

Chromium is Debian's (``CHROMIUM_PATH``, default /usr/bin/chromium); WebRTC on a loopback-only machine
needs a second address: ``ip addr add 127.0.0.2/8 dev lo`` (root). Figures are only as good as the
machine is idle: the script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from fer.locations import faces_dir
from serve.app_server import app_process, chromium_path, free_port
from serve.fakecam import make_fake_webcam
from serve.live_browser import LiveTab, LiveTabError, launch_chromium, load_average, process_usage

REPO = Path(__file__).resolve().parent.parent
PORTRAIT = faces_dir() / "astronaut.png"
WARMUP_S = 8.0  # after every viewer streams: the bitrate and resolution ramp up first
CHURN_STREAM_S = 3.0
SOAK_SAMPLE_S = 30.0
#: Stages in the order of a frame's path through the server (see fer/live.py and ui/live/profile.py).
STAGE_ORDER = (
    "video_decode", "frame_in", "prepare", "detect", "classify", "annotate", "frame_out", "video_encode",
    "page_stats", "page_timeline",
)  # fmt: skip


@dataclass
class Server:
    url: str
    process: psutil.Process
    profile: Path
    cpu0: float = 0.0
    profile0: dict = field(default_factory=dict)  # the profile file at mark(): {"stages": ..., "streams": ...}

    def usage(self) -> dict:
        """RSS (MB), threads and open file descriptors now."""
        return process_usage(self.process.pid)

    def cpu_s(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def read_profile(self) -> dict:
        """The server's latest profile snapshot (empty for a server without the profiling hook)."""
        try:
            return json.loads(self.profile.read_text())
        except (OSError, ValueError):
            return {}

    def mark(self) -> None:
        self.cpu0, self.profile0 = self.cpu_s(), self.read_profile()


def stream_fps(now: dict, before: dict, elapsed: float) -> list[dict]:
    """Each stream's processed FPS between two profiles, counted by the server (browsers may lag)."""
    out = []
    for stream, (frames, width, height) in now.items():
        first = before.get(stream, [0])[0]
        out.append({"fps": round((frames - first) / elapsed, 1), "size": f"{width}×{height}"})
    return sorted(out, key=lambda v: -v["fps"])


def browser_cpu_s() -> float:
    """CPU seconds of every Chromium process started by this script (the browsers' own cost)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                times = child.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def start_servers(stack: ExitStack, count: int, workdir: Path, cpus: str | None) -> list[Server]:

    servers = []
    for i in range(count):
        profile = workdir / f"profile_{i}.json"
        env = {"FER_LIVE_PROFILE": str(profile), "FER_ICE_SERVERS": ""}
        prefix = ["taskset", "-c", cpus] if cpus else []
        url, proc = stack.enter_context(
            app_process(free_port(), workdir / f"server_{i}.log", timeout_s=180, env=env, prefix=prefix)
        )
        servers.append(Server(url, psutil.Process(proc.pid), profile))
    return servers


def open_tabs(browser, servers: list[Server], count: int, prefix: str) -> list[LiveTab]:  # noqa: ANN001
    """Open the viewers' tabs on the Live page; one that cannot load it is named (LiveTabError)."""
    tabs = []
    for i in range(count):
        name = f"{prefix}{i + 1}"
        try:
            tabs.append(LiveTab(browser, servers[i % len(servers)].url, name))
        except Exception as exc:  # Playwright's errors: name the viewer and the step
            for tab in tabs:
                tab.close()
            raise LiveTabError(
                f"[{name}] could not open the Live page ({type(exc).__name__}: {str(exc).splitlines()[0]})"
            ) from None
    return tabs


#: How long one viewer may take from START to its first processed frame. Browsers pinned to one core
#: beside others start far slower than alone, so viewers start one after another, each given this long.
FIRST_FRAME_S = 120


def start_streaming(tabs: list[LiveTab]) -> None:
    """Start the viewers one at a time, each streaming before the next starts; a viewer that cannot
    start is named with the step that failed and what its page showed (LiveTabError)."""
    for tab in tabs:
        try:
            tab.start()
        except LiveTabError:
            raise
        except Exception as exc:  # Playwright's errors: say which viewer and step, not a bare traceback
            tab.fail(f"could not press START ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        tab.wait_until("a first processed frame", lambda tab=tab: tab.frames() > 0, FIRST_FRAME_S)


# ----------------------------------------------------------------------------- phases
def load_phase(browser, servers: list[Server], viewers: int, seconds: float) -> dict:  # noqa: ANN001
    tabs = open_tabs(browser, servers, viewers, "viewer")
    try:
        start_streaming(tabs)
        time.sleep(WARMUP_S)
        frames0 = [tab.frames() for tab in tabs]
        for server in servers:
            server.mark()
        browser0, t0 = browser_cpu_s(), time.monotonic()
        sizes: list[set[str]] = [set() for _ in tabs]
        while time.monotonic() - t0 < seconds:
            for tab, seen in zip(tabs, sizes):
                try:
                    seen.add(tab.input_size())
                except Exception:  # a refresh in progress: the next reading will do
                    pass
            time.sleep(2.0)
        elapsed = time.monotonic() - t0
        frames = [tab.frames() - f0 for tab, f0 in zip(tabs, frames0)]
        report = {
            "viewers": [
                {"viewer": tab.name, "server": i % len(servers), "fps": round(n / elapsed, 1), "sizes": sorted(s)}
                for i, (tab, n, s) in enumerate(zip(tabs, frames, sizes))
            ],
            "servers": [
                server_report(server, elapsed, sum(n for i, n in enumerate(frames) if i % len(servers) == k))
                for k, server in enumerate(servers)
            ],
            "browsers_cores": round((browser_cpu_s() - browser0) / elapsed, 2),
            "seconds": round(elapsed, 1),
            "load": load_average(),
        }
        for tab in tabs:  # best effort: closing the tab (below) ends its stream anyway
            try:
                tab.stop()
            except Exception as exc:  # a starved browser may not answer in time; the figures stand
                print(f"note: {tab.name}: STOP not pressed ({type(exc).__name__}); its tab is closed instead")
        return report
    finally:
        for tab in tabs:
            tab.close()


def server_report(server: Server, elapsed: float, viewer_frames: int) -> dict:
    """CPU (cores), memory and the per-stage CPU ms per processed frame since ``server.mark()``.

    Frames are the server's own count, or its viewers' page counters for a server without the
    profiling hook (an older version, measured as a baseline).
    """
    cpu = server.cpu_s() - server.cpu0
    profile, profile0 = server.read_profile(), server.profile0
    now, before = profile.get("stages", {}), profile0.get("stages", {})
    delta = {name: [v - w for v, w in zip(vals, before.get(name, [0, 0.0, 0.0]))] for name, vals in now.items()}
    frames = max(1, int(delta["frames"][0]) if "frames" in delta else viewer_frames)
    per_frame = {name: round(1000 * delta[name][1] / frames, 2) for name in STAGE_ORDER if name in delta}
    per_frame["other"] = round(1000 * cpu / frames - sum(per_frame.values()), 2)
    return {
        "cores": round(cpu / elapsed, 2),
        "frames_per_s": round(frames / elapsed, 1),
        "cpu_ms_per_frame": round(1000 * cpu / frames, 2),
        "stage_cpu_ms_per_frame": per_frame,
        "stage_calls_per_s": {name: round(delta[name][0] / elapsed, 1) for name in STAGE_ORDER if name in delta},
        "viewers": stream_fps(profile.get("streams", {}), profile0.get("streams", {}), elapsed),
        **server.usage(),
    }


def churn_phase(browser, servers: list[Server], cycles: int, settle: float) -> dict:  # noqa: ANN001
    before = [s.usage() for s in servers]
    failures: list[str] = []
    for i in range(cycles):
        tab = None
        try:
            tab = open_tabs(browser, servers, 1, f"churn{i + 1}-")[0]
            start_streaming([tab])
            time.sleep(CHURN_STREAM_S)
        except Exception as exc:  # a session that cannot stream is a finding, not the end of the run
            failures.append(f"cycle {i + 1}: {str(exc).splitlines()[0]}")
        finally:
            if tab is not None:
                tab.close()  # the tab goes away mid-stream, no STOP
        print(f"  churn {i + 1}/{cycles}: {[s.usage() for s in servers]}", flush=True)
    after = [s.usage() for s in servers]
    settle_watch(servers, settle)
    settled = [s.usage() for s in servers]
    return {
        "cycles": cycles,
        "failed": failures,
        "before": before,
        "after_close": after,
        f"after_{settle:.0f}s": settled,
    }


def settle_watch(servers: list[Server], settle: float, every: float = 15.0) -> None:
    """Wait ``settle`` seconds after the last close, printing RSS, threads and fds as they fall (or not)."""
    t0 = time.monotonic()
    while (left := settle - (time.monotonic() - t0)) > 0:
        time.sleep(min(every, left))
        print(f"  +{time.monotonic() - t0:3.0f} s after the last close: {[s.usage() for s in servers]}", flush=True)


def soak_phase(browser, servers: list[Server], seconds: float, settle: float) -> dict:  # noqa: ANN001
    before = servers[0].usage()
    tab = open_tabs(browser, servers[:1], 1, "soak")[0]
    samples = []
    try:
        start_streaming([tab])
        t0 = last_t = time.monotonic()
        last_frames = tab.frames()
        while (elapsed := time.monotonic() - t0) < seconds:
            time.sleep(min(SOAK_SAMPLE_S, seconds - elapsed))
            frames, now = tab.frames(), time.monotonic()
            fps = (frames - last_frames) / (now - last_t)
            samples.append({"t": round(now - t0), "fps": round(fps, 1), **servers[0].usage()})
            last_frames, last_t = frames, now
        tab.stop()
    finally:
        tab.close()
    settle_watch(servers, settle)
    return {"seconds": seconds, "before": before, "samples": samples, f"after_{settle:.0f}s": servers[0].usage()}


# ----------------------------------------------------------------------------- output
def print_load(report: dict) -> None:
    print(f"\n== load: {len(report['viewers'])} viewer(s), {report['seconds']} s, {report['load']}")
    for v in report["viewers"]:
        print(
            f"  {v['viewer']:>8}  server {v['server']}  {v['fps']:5.1f} processed FPS (page counter)  "
            f"input {', '.join(v['sizes'])}"
        )
    for i, s in enumerate(report["servers"]):
        print(
            f"  server {i}: {s['cores']:.2f} cores, {s['frames_per_s']} frames/s, {s['cpu_ms_per_frame']} CPU ms "
            f"per processed frame; RSS {s['rss_mb']} MB, {s['threads']} threads, {s['fds']} fds"
        )
        viewers = " | ".join(f"{v['fps']} FPS at {v['size']}" for v in s["viewers"]) or "(no profile: an old server)"
        print(f"    its viewers, counted by the server: {viewers}")
        stages = "  ".join(f"{k} {v}" for k, v in s["stage_cpu_ms_per_frame"].items())
        print(f"    CPU ms per processed frame by stage: {stages}")
        calls = "  ".join(f"{k} {v}" for k, v in s["stage_calls_per_s"].items())
        print(f"    calls per second: {calls}")
    print(f"  browsers (all Chromium processes): {report['browsers_cores']:.2f} cores")


def print_usage_check(name: str, report: dict) -> None:
    print(f"\n== {name}: {json.dumps({k: v for k, v in report.items() if k != 'samples'})}")
    for sample in report.get("samples", []):
        print(
            f"  t={sample['t']:>4}s  {sample['fps']:5.1f} FPS  RSS {sample['rss_mb']} MB  "
            f"{sample['threads']} threads  {sample['fds']} fds"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=3, help="concurrent viewers in the load phase (0: skip it)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured load window")
    parser.add_argument("--servers", type=int, default=1, help="server processes; viewers are spread round-robin")
    parser.add_argument("--server-cpus", help="pin the servers to these CPUs (taskset list, e.g. 0)")
    parser.add_argument("--browser-cpus", help="pin the browsers to these CPUs (e.g. 1)")
    parser.add_argument("--churn", type=int, default=0, help="open/stream/close cycles after the load phase")
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of one viewer after that")
    parser.add_argument("--settle", type=float, default=60.0, help="wait after the last close before measuring")
    parser.add_argument("--portrait", type=Path, default=PORTRAIT, help="the face the fake cameras show")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="fer-load-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        camera = make_fake_webcam(args.portrait, workdir / "camera.y4m", seconds=4, fps=30)
        servers = start_servers(stack, args.servers, workdir, args.server_cpus)
        if args.browser_cpus:  # Chromium inherits this process's CPU set
            os.sched_setaffinity(0, {int(c) for c in args.browser_cpus.split(",")})
        print(f"{len(servers)} server(s): {', '.join(s.url for s in servers)}; idle: {[s.usage() for s in servers]}")
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright, chromium_path(), camera)
                if args.viewers > 0:
                    results["load"] = load_phase(browser, servers, args.viewers, args.seconds)
                    print_load(results["load"])
                if args.churn > 0:
                    results["churn"] = churn_phase(browser, servers, args.churn, args.settle)
                    print_usage_check("churn", results["churn"])
                if args.soak > 0:
                    results["soak"] = soak_phase(browser, servers, args.soak, args.settle)
                    print_usage_check("soak", results["soak"])
                browser.close()
        except LiveTabError as exc:
            print(f"error: {exc}\nserver logs: {workdir}", file=sys.stderr)
            return 1
        except Exception as exc:  # Playwright's own errors: one clear line, not a traceback
            first = str(exc).splitlines()[0] if str(exc) else ""
            print(
                f"error: the browser step failed ({type(exc).__name__}: {first})\nserver logs: {workdir}",
                file=sys.stderr,
            )
            return 1
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
