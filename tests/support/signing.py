"""Signing requests that tests send by hand (raw sockets, http.client) the way boto3 signs its own:
botocore's SigV4Auth with the test engines' key pair, so the engine's signature check is passed by
what it should pass and nothing else."""

from __future__ import annotations

from urllib.parse import urlparse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.engine_process import ACCESS_KEY_ID, SECRET_ACCESS_KEY


def signed_headers(url: str, method: str, path: str, body: bytes, headers: dict[str, str],
                   key_id: str = ACCESS_KEY_ID, secret: str = SECRET_ACCESS_KEY,
                   region: str = "us-east-1", service: str = "personalize") -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date and Authorization for a request to `url` (the engine's base URL)."""
    host = next((v for k, v in headers.items() if k.lower() == "host"), None) or urlparse(url).netloc
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body,
                         headers={**{k: v for k, v in headers.items() if k.lower() != "host"}, "Host": host})
    SigV4Auth(Credentials(key_id, secret), service, region).add_auth(request)
    return dict(request.headers.items())


def sign_raw(request: bytes, **kwargs: str) -> bytes:
    """One complete raw HTTP/1.1 request (head and body, Host header included), signed."""
    head, _, body = request.partition(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    method, path, _ = line.split(" ")
    headers = dict(field.split(": ", 1) for field in fields)
    host = next(v for k, v in headers.items() if k.lower() == "host")
    out = signed_headers(f"http://{host}", method, path, body, headers, **kwargs)
    return "\r\n".join([line, *(f"{k}: {v}" for k, v in out.items())]).encode("latin-1") + b"\r\n\r\n" + body
