"""Start (or reuse) the embedded engine as its own process and hand back its URL.

The dashboard reaches the engine only over HTTP, like any AWS client: this module starts
`python -m engine` and never imports it.
"""

from __future__ import annotations

import atexit
import json
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class EngineStartError(RuntimeError):
    pass


@dataclass
class LocalEngine:
    url: str
    data_dir: Path
    process: subprocess.Popen | None  # None when another process already serves this data dir

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_engine/health", timeout=timeout) as resp:
            return json.load(resp).get("status") == "ok"
    except (OSError, ValueError):
        return False


def start(data_dir: Path, port: int = 0, timeout: float = 30.0) -> LocalEngine:
    data_dir.mkdir(parents=True, exist_ok=True)
    url_file = data_dir / "engine.url"
    if url_file.exists():
        url = url_file.read_text().strip()
        if healthy(url):
            return LocalEngine(url, data_dir, None)
    log_path = data_dir / "engine.log"
    proc = subprocess.Popen(
        # --exit-with-parent: no orphan engine keeps the data dir when the dashboard process dies.
        [sys.executable, "-m", "engine", "--port", str(port), "--data-dir", str(data_dir),
         "--exit-with-parent"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=log_path.open("a"),  # a file, not a pipe: nobody would drain a pipe for hours
        text=True,
    )
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline() if proc.stdout else ""
    if "listening on " not in line:
        proc.kill()
        err = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        raise EngineStartError(f"The embedded engine did not start: {(line + err).strip() or 'no output'}")
    url = line.split("listening on ", 1)[1].split()[0]
    while not healthy(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    engine = LocalEngine(url, data_dir, proc)
    atexit.register(engine.stop)
    return engine
