"""Who may call the engine: AWS Signature Version 4 with the engine's key pair, and the Host and
Origin checks that keep web pages out.

The signature is recomputed with botocore's own `SigV4Auth` on an `AWSRequest` rebuilt from the wire
request (method, URL with the Host header, the headers the client signed, the body) and compared in
constant time. The one exception is the common shape every SDK call has (a plain path, no query, each
signed header named once): its canonical request is spelled out in `_plain_signature`, because the
botocore objects cost a tenth of a GetRecommendations answer; the tests hold it equal to botocore's
over varied requests. What is cached is the derived signing key (four HMACs), per day, region and
service, because GetRecommendations is answered on the event loop and every microsecond there is paid
by every page view. A signed X-Amz-Content-SHA256 must be the body's hash (botocore would take it as
given, and the body would then go unchecked).

A server on 127.0.0.1 is reachable from any web page the user opens: through DNS rebinding (the page's
own host name then points at 127.0.0.1, so the Host header names it) and through "simple" cross-origin
POSTs, which a browser sends without asking first. Browsers always send the page's Host and, for
cross-origin requests, an Origin; AWS SDKs send no Origin. So requests must name a loopback address,
`localhost` or the engine's own `--host` (plus any `--allow-host`), and a request with an Origin is
refused unless that origin was allowed (`--allow-origin`).
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Iterable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .errors import (
    AccessDeniedException,
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

MAX_SKEW = 15 * 60  # seconds, as AWS allows
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request\s*,\s*"
    r"SignedHeaders=([a-z0-9\-;]+)\s*,\s*Signature=([0-9a-f]{64})\s*"
)
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")


class _WireRequest(AWSRequest):
    """The request as it arrived. Its body is the bytes received: AWSRequest would otherwise prepare a
    whole copy of itself (headers included) each time botocore reads `body` to hash it."""

    @property
    def body(self) -> bytes:
        return self.data


@functools.lru_cache(maxsize=256)
def _normalized_path(path: str) -> str:
    """botocore's URL path normalisation, a pure function of the path; clients call the same few paths."""
    return SigV4Auth._normalize_url_path(None, path)  # type: ignore[arg-type]  # it never reads self


class _Recompute(SigV4Auth):
    """botocore's SigV4 over exactly the headers the client says it signed, with a cached signing key."""

    def __init__(self, credentials: Credentials, service: str, region: str, signed: list[str],
                 signing_key: bytes, values: dict[str, str] | None = None) -> None:
        """`values`: the signed headers' values by lower-cased name, read instead of the request's
        HTTPHeaders (whose look-ups go through the email package)."""
        super().__init__(credentials, service, region)
        self._signed = signed
        self._signing_key = signing_key
        self._values = values

    # The three header steps over a plain dict of lists instead of botocore's email-based HTTPHeaders,
    # whose construction and look-ups cost more than the HMACs. Same canonical text: a name the client
    # listed twice contributes its value twice (HTTPHeaders appended), names arrive lower-cased (_AUTH).
    def headers_to_sign(self, request: AWSRequest) -> dict[str, list[str]]:  # type: ignore[override]
        source = self._values if self._values is not None else request.headers
        headers: dict[str, list[str]] = {}
        for name in self._signed:
            headers.setdefault(name, []).append(source.get(name, ""))
        return headers

    def canonical_headers(self, headers_to_sign: dict[str, list[str]]) -> str:  # type: ignore[override]
        return "\n".join(f"{name}:{','.join(' '.join(v.split()) for v in headers_to_sign[name])}"
                         for name in sorted(headers_to_sign))

    def signed_headers(self, headers_to_sign: dict[str, list[str]]) -> str:  # type: ignore[override]
        return ";".join(sorted(headers_to_sign))

    def _normalize_url_path(self, path: str) -> str:
        return _normalized_path(path)

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        return hmac.new(self._signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class SignatureCheck:
    """Verifies that a request was signed with the one key pair this engine accepts."""

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.access_key_id = access_key_id
        self._credentials = Credentials(access_key_id, secret_access_key)
        self._keys: dict[tuple[str, str, str], bytes] = {}
        self._last_date: tuple[str, int] = ("", 0)

    def _signing_key(self, day: str, region: str, service: str) -> bytes:
        key = self._keys.get((day, region, service))
        if key is None:
            if len(self._keys) > 64:  # days go by; a few regions and services per day at most
                self._keys.clear()
            key = ("AWS4" + self._credentials.secret_key).encode()
            for part in (day, region, service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys[(day, region, service)] = key
        return key

    def _epoch(self, amz_date: str) -> int:
        # Requests signed in the same second share it; time.strptime costs more than the HMACs.
        last = self._last_date
        if last[0] != amz_date:
            d = amz_date
            last = (d, calendar.timegm((int(d[0:4]), int(d[4:6]), int(d[6:8]), int(d[9:11]), int(d[11:13]),
                                        int(d[13:15]), 0, 0, 0)))
            self._last_date = last
        return last[1]

    def verify(self, method: str, target: str, headers: dict[str, str], body: bytes,
               now: float | None = None) -> None:
        """Raise the AWS error for a request not signed with this engine's key pair; `headers` have
        lower-cased names."""
        header = headers.get("authorization", "")
        if not header:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        match = _AUTH.fullmatch(header)
        if match is None:
            raise IncompleteSignatureException(
                "The Authorization header is not an AWS Signature Version 4 (AWS4-HMAC-SHA256 Credential=..., "
                "SignedHeaders=..., Signature=...)."
            )
        key_id, day, region, service, signed_text, signature = match.groups()
        if not hmac.compare_digest(key_id.encode(), self.access_key_id.encode()):
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        amz_date = headers.get("x-amz-date", "")
        signed = signed_text.split(";")
        if not _AMZ_DATE.fullmatch(amz_date) or "x-amz-date" not in signed or "host" not in signed:
            raise IncompleteSignatureException("The request must sign its Host and X-Amz-Date headers.")
        if amz_date[:8] != day:
            raise InvalidSignatureException("The credential scope's date is not the date the request was signed.")
        signed_at = self._epoch(amz_date)
        now = time.time() if now is None else now
        if abs(now - signed_at) > MAX_SKEW:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is more than 15 minutes away from the engine's time "
                f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}."
            )
        values = {name: headers.get(name, "") for name in signed}
        key = self._signing_key(day, region, service)
        declared = values.get("x-amz-content-sha256")
        if declared is not None and not hmac.compare_digest(declared.encode(),
                                                            hashlib.sha256(body).hexdigest().encode()):
            # botocore's canonical request takes a signed body hash as given; the body must match it.
            raise InvalidSignatureException("The X-Amz-Content-SHA256 header is not the SHA-256 of the request body.")
        if "?" not in target and len(values) == len(signed) and _normalized_path(target) == target:
            expected = _plain_signature(key, method, target, signed, values, body, amz_date, region, service)
        else:
            expected = self._botocore_signature(key, method, target, headers, signed, values, body, amz_date,
                                                region, service)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidSignatureException(
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method."
            )

    def _botocore_signature(self, key: bytes, method: str, target: str, headers: dict[str, str], signed: list[str],
                            values: dict[str, str], body: bytes, amz_date: str, region: str, service: str) -> str:
        """The signature botocore's SigV4 computes for the request (any target, repeated signed names)."""
        request = _WireRequest(method=method, url=f"http://{headers.get('host', '')}{target}",
                               headers=values, data=body)
        request.context["timestamp"] = amz_date
        signer = _Recompute(self._credentials, service, region, signed, key, values)
        return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


def _plain_signature(key: bytes, method: str, path: str, signed: list[str], values: dict[str, str], body: bytes,
                     amz_date: str, region: str, service: str) -> str:
    """What `_botocore_signature` gives a request whose target is a normalised path without a query and
    whose signed names are distinct (every SDK call the runtime answers on its event loop), spelled
    out: the botocore objects cost a tenth of a GetRecommendations answer. The tests hold the two
    equal over varied requests."""
    names = sorted(values)
    canonical = "\n".join((
        method.upper(), path, "",
        "\n".join(f"{name}:{' '.join(values[name].split())}" for name in names) + "\n",
        ";".join(names),
        values.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
    ))
    to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, f"{amz_date[:8]}/{region}/{service}/aws4_request",
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    return _hmac_sha256(key).hexdigest(to_sign.encode("utf-8"))


class _HmacSha256:
    """HMAC-SHA256 under one key (RFC 2104) with the key's two padded blocks hashed once: each message
    then costs copies of the two hash states and its own hashing (hmac.digest pads and hashes the key
    again on every call, twice what a request's signature needs)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:  # SHA-256's block: longer keys are hashed first
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@functools.lru_cache(maxsize=64)
def _hmac_sha256(key: bytes) -> _HmacSha256:
    """The prepared HMAC of a signing key (one per day, region and service)."""
    return _HmacSha256(key)


def _host_name(value: str) -> str:
    """The name in a Host header, without its port; IPv6 literals lose their brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class BrowserCheck:
    """The Host and Origin checks (see the module docstring)."""

    def __init__(self, bound_host: str, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()) -> None:
        self.hosts = {"localhost", _host_name(bound_host), *(_host_name(h) for h in allowed_hosts)}
        self.origins = {o.strip().rstrip("/").lower() for o in allowed_origins}

    def verify(self, headers: dict[str, str]) -> None:
        host = headers.get("host")
        # No Host at all is an HTTP/1.0 client, never a browser, which always names the page's host.
        if host is not None:
            name = _host_name(host)
            if name not in self.hosts and not _is_loopback(name):
                raise AccessDeniedException(
                    f"The Host {host[:100]!r} is not this engine's (use a loopback address, localhost, the "
                    "--host value, or start the engine with --allow-host NAME)."
                )
        origin = headers.get("origin")
        if origin is not None and origin.strip().rstrip("/").lower() not in self.origins:
            raise AccessDeniedException(
                f"Requests from the web origin {origin[:100]!r} are refused (start the engine with "
                "--allow-origin ORIGIN to allow one)."
            )
