"""`python -m formcheck.bench appmem [--mb 300] [--app formcheck/serve.py]`: the app server's
memory with two large uploads from two browser sessions at once (headless Chromium, Playwright).

Each upload is a real clip padded to --mb megabytes (trailing bytes after the mp4: it still
decodes). Prints the server's resident memory (VmRSS, MB) at start, once both uploads have been
taken in and answered, and after both sessions have closed. --app formcheck/app.py runs the app
with Streamlit's own uploader (each file received whole into memory), to compare.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP = os.path.join(ROOT, "..", "shared", "data", "videos", "deadlift", "dl_posereader_01_good.mp4")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(mb: int, app: str) -> None:
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    work = tempfile.mkdtemp(prefix="formcheck-appmem-")
    files = []
    for i in range(2):
        p = os.path.join(work, f"big{i}.mp4")
        shutil.copy(CLIP, p)
        with open(p, "ab") as fh:  # different padding: two different uploads
            block = bytes([i + 1]) * (1 << 20)
            for _ in range(mb):
                fh.write(block)
        files.append(p)
    proc, url = _server(app, os.path.join(work, "cache"))
    try:
        time.sleep(2)
        start = _rss_mb(proc.pid)
        peak = [start]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], _rss_mb(proc.pid))
                time.sleep(0.2)
        threading.Thread(target=watch, daemon=True).start()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            pages = []
            for f in files:
                page = browser.new_page()
                page.goto(url)
                page.get_by_text("Upload a video").wait_for(timeout=60_000)
                pages.append(page)
            for page, f in zip(pages, files):
                page.locator("input[type=file]").set_input_files(f)
            for page in pages:
                page.locator("text=/Capture check|could not|Something went wrong|No complete/").first.wait_for(timeout=600_000)
            time.sleep(3)
            answered = _rss_mb(proc.pid)
            for page in pages:
                page.close()
            browser.close()
        time.sleep(15)  # Streamlit ends a closed session's state after its websocket goes
        closed = _rss_mb(proc.pid)
        stop.set()
        print(f"app {os.path.relpath(app, ROOT)}; two uploads of {os.path.getsize(files[0]) / 1e6:.0f} MB at once")
        print(f"server RSS MB: start {start:.0f}, peak {peak[0]:.0f}, both answered {answered:.0f}, sessions closed {closed:.0f}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


def _server(app: str, cache: str):
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", app, "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            env=dict(os.environ, FORMCHECK_CACHE=cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    return proc, url


def timing(clips: list[str], shots: str) -> None:
    """`python -m formcheck.bench apptime CLIP ...`: seconds from choosing the file to the verdict
    on screen and to a playable annotated video, on a laptop (1400x900) and a phone (390x844)
    viewport, each clip fresh (an empty cache), with a screenshot of each first result."""
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    os.makedirs(shots, exist_ok=True)
    print(f"{'clip':32s} {'viewport':8s} {'verdict s':>9s} {'video s':>8s}  screenshot")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for clip in clips:
            for name, view, mobile in (("laptop", {"width": 1400, "height": 900}, False),
                                       ("phone", {"width": 390, "height": 844}, True)):
                work = tempfile.mkdtemp(prefix="formcheck-apptime-")
                proc, url = _server(os.path.join(ROOT, "formcheck", "serve.py"), os.path.join(work, "cache"))
                try:
                    ctx = browser.new_context(viewport=view, is_mobile=mobile, has_touch=mobile,
                                              user_agent="Mozilla/5.0 (iPhone) Mobile" if mobile else None)
                    page = ctx.new_page()
                    page.goto(url)
                    page.get_by_text("What we found").wait_for(timeout=300_000)  # the sample first
                    page.locator("video").first.wait_for(timeout=300_000)
                    sample_src = page.evaluate("document.querySelector('video').src")
                    t0 = time.time()
                    page.locator("input[type=file]").set_input_files(clip)
                    # the headline names the clip, so the sample's (still on screen while the new run works) does not count
                    page.get_by_text(f"{os.path.basename(clip)} - ").wait_for(timeout=600_000)
                    t_verdict = time.time() - t0
                    shot = os.path.join(shots, f"{os.path.splitext(os.path.basename(clip))[0]}_{name}.png")
                    page.screenshot(path=shot)
                    page.wait_for_function("(old) => { const v = document.querySelector('video');"
                                           " return v && v.src !== old && v.readyState >= 2 && v.videoWidth > 0; }",
                                           arg=sample_src, timeout=600_000)
                    t_video = time.time() - t0
                    ctx.close()
                    print(f"{os.path.basename(clip)[:32]:32s} {name:8s} {t_verdict:9.1f} {t_video:8.1f}  {shot}")
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
                    shutil.rmtree(work, ignore_errors=True)
        browser.close()
