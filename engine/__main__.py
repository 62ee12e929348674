"""`python -m engine --host 127.0.0.1 --port 8765 --data-dir DIR [--access-key KEY]`

Prints one line with its URL once it accepts requests; stops cleanly on SIGINT/SIGTERM.

It binds 127.0.0.1 unless `--host` says otherwise (e.g. `--host 0.0.0.0` to share it on a network).
A shared engine should name the one access key id its clients use (`--access-key KEY` or
PERSONALIZE_ENGINE_ACCESS_KEY): requests signed with any other key get 403, as on AWS.
"""

from __future__ import annotations

import argparse
import fcntl
import ipaddress
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .backend import Backend
from .server import EngineServer


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(os.environ.get("PERSONALIZE_DATA_DIR") or user_data_dir("personalize-dashboard")) / "engine"


def _watch_parent(on_exit: Callable[[], None]) -> None:
    """Stop when our parent dies (we get reparented). PR_SET_PDEATHSIG would fire when the parent's
    *thread* exits, and Streamlit starts us from a short-lived script thread."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        on_exit()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine",
                                     description="Amazon Personalize-compatible engine over HTTP.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: only this machine can reach the engine)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where state is kept "
                             "(default: $PERSONALIZE_DATA_DIR/engine or the user data dir)")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    parser.add_argument("--region", default=region, help="region used in ARNs")
    parser.add_argument("--access-key", default=os.environ.get("PERSONALIZE_ENGINE_ACCESS_KEY") or None,
                        help="accept only requests signed with this AWS access key id "
                             "(default: $PERSONALIZE_ENGINE_ACCESS_KEY, else any)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started the engine exits (the dashboard uses this)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")

    data_dir = (args.data_dir or default_data_dir()).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # One engine per data dir: two processes would each trust their own in-memory mirror.
    lock = (data_dir / "engine.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        url = (data_dir / "engine.url").read_text().strip() if (data_dir / "engine.url").exists() else "?"
        print(f"personalize-engine: another engine already serves {data_dir} at {url}", file=sys.stderr)
        return 3
    backend = Backend(data_dir, region=args.region)
    try:
        server = EngineServer((args.host, args.port), backend, access_key=args.access_key)
    except OSError as exc:
        print(f"personalize-engine: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        backend.shutdown()
        return 2

    if args.access_key is None and not ipaddress.ip_address(server.server_address[0]).is_loopback:
        print(f"personalize-engine: warning: listening on {args.host} with no --access-key; anyone who "
              "can reach this port can read and change its data", file=sys.stderr)
    def stop(signum: int, frame: object) -> None:
        server.shutdown()  # thread-safe and non-blocking: serve_forever returns on the loop's next turn

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if args.exit_with_parent:
        _watch_parent(lambda: stop(signal.SIGTERM, None))
    (data_dir / "engine.url").write_text(server.url + "\n")
    print(f"personalize-engine listening on {server.url} (data dir {data_dir})", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        backend.shutdown()
        (data_dir / "engine.url").unlink(missing_ok=True)
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
