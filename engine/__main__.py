"""`python -m engine --host 127.0.0.1 --port 8765 --data-dir DIR`

Prints one line with its URL once it accepts requests; stops on SIGINT/SIGTERM within its grace
(SHUTDOWN_GRACE seconds, even with jobs that are stuck), holding the data dir's lock until it exits.

Who may call it (see engine.auth and README's Security section): every request must be signed (AWS
Signature Version 4) with the engine's key pair: `--access-key-id ID --secret-access-key SECRET` (or
PERSONALIZE_ENGINE_ACCESS_KEY_ID / PERSONALIZE_ENGINE_SECRET_ACCESS_KEY); without them a pair is
generated on first start into `<data-dir>/credentials` (AWS shared-credentials file, profile
`personalize-local`, owner-only). `--no-auth` turns the check off, and says so. What it may touch:
`file://` locations only inside `--allow-files DIR` (repeatable; or PERSONALIZE_ENGINE_FILE_ROOTS).
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

from .auth import BrowserCheck, SignatureCheck
from .backend import Backend
from .credentials import PROFILE, CredentialsError, engine_key_pair
from .locations import DEFAULT_MAX_FILE_BYTES
from .server import SHUTDOWN_GRACE, EngineServer


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


def _env(name: str) -> str | None:
    return os.environ.get(name) or None  # set but empty counts as unset


def parse_args(argv: list[str] | None) -> argparse.Namespace:
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
    parser.add_argument("--access-key-id", default=_env("PERSONALIZE_ENGINE_ACCESS_KEY_ID"),
                        help="the access key id callers sign with (default: $PERSONALIZE_ENGINE_ACCESS_KEY_ID, "
                             f"else the pair in <data-dir>/credentials, profile {PROFILE}, made on first start)")
    parser.add_argument("--secret-access-key", default=_env("PERSONALIZE_ENGINE_SECRET_ACCESS_KEY"),
                        help="its secret (default: $PERSONALIZE_ENGINE_SECRET_ACCESS_KEY)")
    parser.add_argument("--no-auth", action="store_true",
                        help="accept unsigned requests from anyone who can reach the port")
    roots = [r for r in (os.environ.get("PERSONALIZE_ENGINE_FILE_ROOTS") or "").split(os.pathsep) if r]
    parser.add_argument("--allow-files", action="append", default=None, metavar="DIR",
                        help="a folder file:// locations may be in (repeatable; default: "
                             "$PERSONALIZE_ENGINE_FILE_ROOTS, else none: no local files are read or written)")
    parser.add_argument("--max-file-bytes", type=int, default=DEFAULT_MAX_FILE_BYTES,
                        help=f"largest file an import or batch job reads (default {DEFAULT_MAX_FILE_BYTES}, 2 GiB)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="another name clients may reach the engine by (the Host header), e.g. behind a proxy")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a web origin whose pages may call the engine (default: none)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started the engine exits (the dashboard uses this)")
    args = parser.parse_args(argv)
    if args.allow_files is None:
        args.allow_files = roots
    if (args.access_key_id is None) != (args.secret_access_key is None):
        parser.error("give both --access-key-id and --secret-access-key (or neither)")
    return args


def _signatures(args: argparse.Namespace, data_dir: Path) -> SignatureCheck | None:
    if args.no_auth:
        print("personalize-engine: --no-auth: requests are NOT authenticated; anyone who can reach "
              f"{args.host}:{args.port} can read and change this engine's data", file=sys.stderr, flush=True)
        return None
    key_id, secret, where = engine_key_pair(data_dir, args.access_key_id, args.secret_access_key)
    if where is not None:
        print(f"personalize-engine: clients sign with the key pair in {where} (profile {PROFILE})",
              file=sys.stderr, flush=True)
    return SignatureCheck(key_id, secret)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")

    data_dir = (args.data_dir or default_data_dir()).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # One engine per data dir: two processes would each trust their own in-memory mirror. The lock is
    # released by the process's exit and by nothing else, so no second engine starts while we still write.
    lock = (data_dir / "engine.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        url = (data_dir / "engine.url").read_text().strip() if (data_dir / "engine.url").exists() else "?"
        print(f"personalize-engine: another engine already serves {data_dir} at {url}", file=sys.stderr)
        return 3
    try:
        signatures = _signatures(args, data_dir)
    except CredentialsError as exc:
        print(f"personalize-engine: {exc}", file=sys.stderr)
        return 2
    backend = Backend(data_dir, region=args.region, file_roots=args.allow_files, max_file_bytes=args.max_file_bytes)
    browsers = BrowserCheck(args.host, args.allow_host, args.allow_origin)
    try:
        server = EngineServer((args.host, args.port), backend, signatures, browsers)
    except OSError as exc:
        print(f"personalize-engine: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        backend.shutdown()
        return 2
    if signatures is None and not ipaddress.ip_address(server.server_address[0]).is_loopback:
        print(f"personalize-engine: warning: listening on {args.host} with --no-auth", file=sys.stderr)
    return _serve(server, backend, data_dir, args.exit_with_parent)


def _serve(server: EngineServer, backend: Backend, data_dir: Path, exit_with_parent: bool) -> int:
    def stop(signum: int, frame: object) -> None:
        server.shutdown()  # thread-safe and non-blocking: serve_forever returns on the loop's next turn

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if exit_with_parent:
        _watch_parent(lambda: stop(signal.SIGTERM, None))
    (data_dir / "engine.url").write_text(server.url + "\n")
    print(f"personalize-engine listening on {server.url} (data dir {data_dir})", flush=True)
    code = 0
    try:
        server.serve_forever()
        deadline = time.monotonic() + SHUTDOWN_GRACE
        server.server_close(SHUTDOWN_GRACE)
        if not backend.shutdown(max(0.0, deadline - time.monotonic()), hurry=lambda: server.grace_over):
            logging.getLogger("personalize-engine").warning("stopping with background jobs still running; "
                                                            "they end CREATE FAILED at the next start")
    except BaseException:
        logging.getLogger("personalize-engine").exception("the engine failed")
        code = 1
    finally:
        (data_dir / "engine.url").unlink(missing_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # Not sys.exit: the interpreter would join job threads that may be stuck (a read that never
        # returns) and keep the process, and its data-dir lock, forever. The store is closed already.
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
