"""Start (or reuse) the embedded engine as its own process and hand back its URL.

The dashboard reaches the engine only over HTTP, like any AWS client: this module starts
`python -m engine` and never imports it. `launch` always starts a new process (tests and benchmarks
use it, with their own flags and environment); `start` is the dashboard's way in: it reuses an
engine that already serves the data dir and stops the one it started when the dashboard exits.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from services.core.waiting import WaitTimeout, poll_until

REPO = Path(__file__).resolve().parents[2]
LISTENING = "listening on "


class EngineStartError(RuntimeError):
    pass


@dataclass
class LocalEngine:
    url: str
    data_dir: Path
    process: subprocess.Popen | None  # None when another process already serves this data dir

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int | None:
        """Signal the engine we started and wait for it (killing it after `timeout`); its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_engine/health", timeout=timeout) as resp:
            return json.load(resp).get("status") == "ok"
    except (OSError, ValueError):
        return False


def launch(
    data_dir: Path,
    port: int = 0,
    *,
    extra_args: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    exit_with_parent: bool = False,
    timeout: float = 30.0,
) -> LocalEngine:
    """Start `python -m engine` on `port` (0: a free one) and return once it answers its health check.

    The engine's stderr goes to `log_path` (appended), or to ours when None. Raises `EngineStartError`
    with what the engine said when it does not come up.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "engine", "--port", str(port), "--data-dir", str(data_dir), *extra_args]
    if exit_with_parent:
        args.append("--exit-with-parent")
    # A file, not a pipe, for stderr: nobody would drain a pipe for the hours an engine runs.
    stderr: IO[str] | None = log_path.open("a") if log_path is not None else None
    try:
        proc = subprocess.Popen(args, cwd=REPO, env={**os.environ, **(extra_env or {})},
                                stdout=subprocess.PIPE, stderr=stderr, text=True)
    finally:
        if stderr is not None:
            stderr.close()  # the child holds its own descriptor
    line = proc.stdout.readline() if proc.stdout else ""
    if LISTENING not in line:
        proc.kill()
        proc.wait()
        err = log_path.read_text(errors="replace")[-2000:] if log_path is not None and log_path.exists() else ""
        raise EngineStartError(f"The embedded engine did not start: {(line + err).strip() or 'no output'}")
    engine = LocalEngine(line.split(LISTENING, 1)[1].split()[0], data_dir, proc)
    try:
        poll_until(lambda: healthy(engine.url), bool, timeout, interval=0.05)
    except WaitTimeout:
        engine.stop(signal.SIGKILL)
        raise EngineStartError(f"The embedded engine at {engine.url} did not answer within {timeout:.0f} s") from None
    return engine


def start(data_dir: Path, port: int = 0, timeout: float = 30.0) -> LocalEngine:
    """The dashboard's engine for `data_dir`: the one already serving it, else a new one tied to us."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url_file = data_dir / "engine.url"
    if url_file.exists():
        url = url_file.read_text().strip()
        if healthy(url):
            return LocalEngine(url, data_dir, None)
    # --exit-with-parent: no orphan engine keeps the data dir when the dashboard process dies. The engine
    # checks signatures with the pair it generates into its data dir (services.core.clients reads it) and
    # touches no local file but the ones this dashboard stages.
    from services.core.config import staging_dir

    engine = launch(data_dir, port, extra_args=["--allow-files", str(staging_dir())],
                    log_path=data_dir / "engine.log", exit_with_parent=True, timeout=timeout)
    atexit.register(engine.stop)
    return engine
