"""The widget lessons in a real browser: JupyterLab on localhost, headless Chromium driven by playwright-core.

For each of lessons 01, 02, 03 and 05: starts JupyterLab (random free port, no token) on a
temporary copy of the lesson, runs all cells, moves one slider of the lesson's widget with the
keyboard and asserts that the widget's figure changed.  One screenshot per lesson goes to
tests/browser/artifacts/ (git-ignored).
Skipped when Chromium, Node or playwright-core is missing; `.ci/run` installs them
(`apt-get install chromium`, `npm install playwright-core` in tests/browser).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = ROOT / "tests" / "browser"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
NODE = shutil.which("node")
SCRIPT = BROWSER_DIR / "lesson_widget.js"
WIDGETS = {  # lesson -> the slider the test moves
    "01_points.ipynb": "dx",  # moves one part's points
    "02_masks.ipynb": "sigma",  # the heatmap width of the mask layout
    "03_foreground_background.ipynb": "u_x",  # the background shift
    "05_equivariance.ipynb": "right (px)",  # moves the points right by whole pixels
}

missing = [what for what, ok in [
    (f"chromium at {CHROMIUM}", os.path.exists(CHROMIUM)),
    ("node", NODE is not None),
    ("playwright-core in tests/browser/node_modules (npm install playwright-core)",
     (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()),
] if not ok]
pytestmark = pytest.mark.skipif(bool(missing), reason="browser test needs " + ", ".join(missing))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {proc.returncode}; see its log {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


@pytest.fixture(params=sorted(WIDGETS))
def lesson(request) -> str:
    return request.param


@pytest.fixture
def jupyterlab(tmp_path, lesson):
    """A token-less JupyterLab serving a copy of the notebooks, with its own config and settings."""
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / lesson, root / lesson)
    port = free_port()
    env = dict(os.environ, GANSEG_FAST="1",
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    # no "receive Jupyter news?" notification over the page
    notification = tmp_path / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.allow_root=True",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         # nothing reaches out to the network: no news feed, update check or extension index
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, proc, tmp_path / "jupyterlab.log")
        yield url, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_moving_a_slider_changes_the_widget_figure(jupyterlab, lesson):
    url, tmp_path = jupyterlab
    artifacts = BROWSER_DIR / "artifacts"
    artifacts.mkdir(exist_ok=True)
    screenshot = artifacts / f"{lesson.removesuffix('.ipynb')}_widget.png"
    if screenshot.exists():
        screenshot.unlink()
    run = subprocess.run([NODE, str(SCRIPT), url, lesson, WIDGETS[lesson], str(screenshot),
                          str(tmp_path / "chromium-profile")],
                         cwd=BROWSER_DIR, capture_output=True, text=True, timeout=420)
    lines = run.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    detail = (f"report: {report}\nbrowser log:\n{run.stderr[-3000:]}\n"
              f"jupyterlab log:\n{(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
    assert report.get("ran"), f"{lesson} did not run through in the browser\n" + detail
    assert run.returncode == 0 and report.get("changed"), \
        f"moving the {WIDGETS[lesson]!r} slider did not change the figure\n" + detail
    assert screenshot.exists(), "no screenshot was written"
    print(f"screenshot: {screenshot}")
