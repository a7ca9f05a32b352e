"""Fixtures for the end-to-end browser tests: Debian's Chromium driven by Playwright's Python
package (no downloaded browser build), and servers on free loopback ports."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("COSTKIT_SCREENSHOTS", ROOT / "build" / "browser"))
# Chromium as the machine's own closed network wants it: no sandbox as root, no GPU, and no
# background connections (component updates, sync, safe browsing) that would be refused.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-default-apps"]


def chromium_path() -> str | None:
    """Debian's Chromium (or $COSTKIT_CHROMIUM): the browser the tests drive."""
    env = os.environ.get("COSTKIT_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    env = os.environ.get("COSTKIT_CHROMIUM")
    if env and not Path(env).exists():
        pytest.skip(f"COSTKIT_CHROMIUM is {env!r}, and no file is there: point it at a "
                    "Chromium binary, or unset it to use the chromium on PATH")
    exe = chromium_path()
    if exe is None:
        pytest.skip("Chromium is not installed, so the browser tests cannot run: install "
                    "Debian's chromium (`make browser-deps` does it as root: apt-get install "
                    "chromium) or point COSTKIT_CHROMIUM at a Chromium binary")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright's Python package is missing: it comes with "
        "the test extra (pip install -e '.[test]', which make install runs)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _offline(route):
    """The workshop room has no network: a request off the machine (Voilà's template links
    Font Awesome from a CDN) is refused at once, as an offline laptop would, instead of
    waiting on a network that drops packets (the page's load event waited for it)."""
    from urllib.parse import urlsplit

    url = urlsplit(route.request.url)
    if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOOPBACK \
            and f"[{url.hostname}]" not in LOOPBACK:
        route.abort("internetdisconnected")
    else:
        route.continue_()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.route("**/*", _offline)
    p = ctx.new_page()
    p.set_default_timeout(120_000)
    yield p
    ctx.close()


@pytest.fixture(scope="session")
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Jupyter-family server on loopback, stopped (and its kernels with it) at the end."""

    def __init__(self, argv, url, log):
        self.url, self.log_path = url, log
        self._log = open(log, "w")  # noqa: SIM115 (closed in stop)
        # kernels inherit the server's environment: drop the test suite's MPLBACKEND=Agg so
        # that charts are drawn inline, as for a user
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, env=env, start_new_session=True)

    def wait(self, probe, timeout_s=120):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): "
                                   + Path(self.log_path).read_text()[-3000:])
            try:
                with urllib.request.urlopen(probe, timeout=5) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"no answer from {probe} in {timeout_s} s")

    def stop(self):
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def _root_flag():
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@pytest.fixture(scope="session")
def notebook_copy(tmp_path_factory):
    """The notebooks copied to a scratch folder: a browser run must not rewrite the originals."""
    d = tmp_path_factory.mktemp("room") / "notebooks"
    d.mkdir()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, d / nb.name)
    # the files the notebooks read beside them (06 reads ../examples/ecommerce.yaml)
    shutil.copytree(ROOT / "examples", d.parent / "examples")
    return d


@pytest.fixture(scope="session")
def jupyterlab(notebook_copy, tmp_path_factory):
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path_factory.mktemp("logs") / "jupyterlab.log"
    # settings of its own: no "get notified about Jupyter news?" prompt over the panels
    settings = tmp_path_factory.mktemp("lab-settings")
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
     ).write_text('{"fetchNews": "false"}', encoding="utf-8")
    srv = Server([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                  "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                  f"--ServerApp.root_dir={notebook_copy}", "--ServerApp.port_retries=0",
                  "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                  "--LabApp.news_url=None", f"--LabApp.user_settings_dir={settings}",
                  *_root_flag()], f"http://127.0.0.1:{port}", log)
    try:
        srv.wait(f"{srv.url}/api/status?token={token}")
        srv.token = token
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def voila(tmp_path_factory):
    """The dashboard exactly as `make dashboard` serves it (see the Makefile)."""
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "voila.log"
    srv = Server([sys.executable, "-m", "voila", *DASHBOARD_NOTEBOOKS, "--no-browser",
                  f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
                  *DASHBOARD_FLAGS], f"http://127.0.0.1:{port}", log)
    try:
        srv.wait(f"{srv.url}/")
        yield srv
    finally:
        srv.stop()


DASHBOARD_NOTEBOOKS = ["notebooks"]
DASHBOARD_FLAGS = ["--VoilaConfiguration.show_tracebacks=True"]
