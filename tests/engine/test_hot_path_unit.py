"""The serving hot path's shortcuts give exactly what the library calls they replace give."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from botocore.auth import SigV4Auth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials

from engine.auth import SignatureCheck, _HmacSha256, _normalized_path, _plain_signature, _Recompute, _WireRequest
from engine.errors import InvalidSignatureException, SerializationException
from engine.recipes.ease_scoring import weighted_row_sum
from engine.recipes.selection import blend, standardised
from engine.server import _reject_constant, decode_json


def _numpy_standardised(scores: np.ndarray) -> np.ndarray:
    scores -= scores.mean(axis=1, keepdims=True)
    scores /= scores.std(axis=1, keepdims=True) + np.float32(1e-9)
    return scores


@pytest.mark.parametrize("shape", [(1, 150), (7, 150), (1, 20_000), (3, 1), (40, 3001)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardised_is_numpy_mean_and_std_bit_for_bit(shape: tuple[int, int], dtype: type) -> None:
    rng = np.random.default_rng(sum(shape))
    scores = (rng.standard_normal(shape) * rng.uniform(1e-3, 100) + rng.uniform(-5, 5)).astype(dtype)
    scores[0, 0] = 0.0
    expected = _numpy_standardised(scores.copy())
    got = standardised(scores.copy())
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("n_items", [1, 150, 20_000])
def test_one_row_blend_is_two_standardised_rows_bit_for_bit(n_items: int) -> None:
    rng = np.random.default_rng(n_items)
    ease = rng.standard_normal((1, n_items)).astype(np.float32) * 3 + 1
    als = rng.standard_normal((1, n_items)).astype(np.float32) / 7 - 2
    expected = _numpy_standardised(ease.copy())
    expected += np.float32(0.4) * _numpy_standardised(als.copy())
    got = blend(ease, als, 0.4)
    assert got.shape == (1, n_items) and got.dtype == np.float32
    assert np.array_equal(got, expected)
    assert not np.shares_memory(got, ease) and not np.shares_memory(got, als)


class _Botocore(SigV4Auth):
    """botocore's own header handling (HTTPHeaders), over the same signed names."""

    def __init__(self, signed: list[str]) -> None:
        super().__init__(Credentials("AKID", "secret"), "personalize", "us-east-1")
        self._signed = signed

    def headers_to_sign(self, request):  # type: ignore[no-untyped-def]
        headers = HTTPHeaders()
        for name in self._signed:
            headers[name] = request.headers.get(name, "")
        return headers


@pytest.mark.parametrize("signed", [
    ["host", "x-amz-date"],
    ["x-amz-date", "host", "content-type", "x-amz-target"],
    ["host", "x-amz-date", "host"],  # a name listed twice
    ["host", "x-amz-date", "x-amz-content-sha256", "missing-header"],
])
def test_signature_headers_are_botocores_canonical_request(signed: list[str]) -> None:
    headers = {"host": "127.0.0.1:8080", "x-amz-date": "20260101T000000Z", "content-type": "  application/json ",
               "x-amz-target": "AmazonPersonalize.ListCampaigns", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    request = _WireRequest(method="POST", url="http://127.0.0.1:8080/recommendations?a=1&b=%20x",
                           headers={name: headers.get(name, "") for name in signed}, data=b'{"a":  1}')
    request.context["timestamp"] = headers["x-amz-date"]
    values = {name: headers.get(name, "") for name in signed}
    expected = _Botocore(signed).canonical_request(request)
    for given in (None, values):  # from the request's HTTPHeaders, and from the dict verify() passes
        ours = _Recompute(Credentials("AKID", "secret"), "personalize", "us-east-1", signed, b"k" * 32, given)
        assert ours.canonical_request(request) == expected


@pytest.mark.parametrize("signed", [
    ["content-type", "host", "x-amz-date"],  # what boto3 signs
    ["x-amz-date", "host", "user-agent", "x-amz-target", "missing-header"],
    ["host", "x-amz-date", "x-amz-content-sha256"],
])
@pytest.mark.parametrize("method", ["POST", "get"])
@pytest.mark.parametrize("path", ["/recommendations", "/personalize-ranking", "/", "/a-b/c~d.e_f"])
@pytest.mark.parametrize("body", [b"", b'{"campaignArn":"arn:x","userId":"u \u00e9"}'])
def test_the_plain_signature_is_botocores(signed: list[str], method: str, path: str, body: bytes) -> None:
    """`_plain_signature` (a plain path, each name once) gives the signature of the botocore path."""
    import hashlib

    assert _normalized_path(path) == path  # what verify() asks before it takes the plain path

    headers = {"host": "localhost:8080", "x-amz-date": "20260101T000000Z", "user-agent": "  Boto3/1  x \t y ",
               "x-amz-target": "AmazonPersonalize.ListCampaigns", "content-type": "application/json",
               "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    values = {name: headers.get(name, "") for name in signed}
    check = SignatureCheck("AKID", "secret")
    key = check._signing_key("20260101", "us-east-1", "personalize")
    expected = check._botocore_signature(key, method, path, headers, signed, values, body, "20260101T000000Z",
                                         "us-east-1", "personalize")
    assert _plain_signature(key, method, path, signed, values, body, "20260101T000000Z", "us-east-1",
                            "personalize") == expected


@pytest.mark.parametrize("key_size", [0, 1, 32, 63, 64, 65, 200])
def test_the_prepared_hmac_is_hmacs(key_size: int) -> None:
    import hashlib
    import hmac

    rng = np.random.default_rng(key_size)
    key = rng.bytes(key_size)
    prepared = _HmacSha256(key)
    for size in (0, 1, 55, 56, 64, 200, 5000):
        message = rng.bytes(size)
        assert prepared.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert prepared.hexdigest(b"again") == hmac.new(key, b"again", hashlib.sha256).hexdigest()  # no state kept


def test_a_signed_body_hash_must_be_the_bodys() -> None:
    """botocore's canonical request takes a signed X-Amz-Content-SHA256 as given: a body swapped under a
    captured signature would otherwise pass. A signature over the right hash and body is accepted."""
    import hashlib

    body = b'{"campaignArn":"arn:x","userId":"u1"}'
    signed = ["host", "x-amz-date", "x-amz-content-sha256"]
    check = SignatureCheck("AKID", "secret")
    now = 1767225600.0  # 2026-01-01T00:00:00Z
    for given in (hashlib.sha256(body).hexdigest(), hashlib.sha256(b"another body").hexdigest()):
        headers = {"host": "localhost", "x-amz-date": "20260101T000000Z", "x-amz-content-sha256": given}
        key = check._signing_key("20260101", "us-east-1", "personalize")
        signature = _plain_signature(key, "POST", "/recommendations", signed, headers, body, "20260101T000000Z",
                                     "us-east-1", "personalize")
        headers["authorization"] = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/personalize/aws4_request, "
                                    f"SignedHeaders={';'.join(signed)}, Signature={signature}")
        if given == hashlib.sha256(body).hexdigest():
            check.verify("POST", "/recommendations", headers, body, now=now)
        else:
            with pytest.raises(InvalidSignatureException, match="SHA-256 of the request body"):
                check.verify("POST", "/recommendations", headers, body, now=now)


@pytest.mark.parametrize("raw", [
    b'{"campaignArn": "arn:x", "userId": "u1", "n": 1.5e3}', b'  {"a": [1, 2, {"b": null}]}  ', b"[1]",
    '{"a": "\u00e9"}'.encode("utf-16"), '{"a": "\u00e9"}'.encode("utf-32-le"), b'\xef\xbb\xbf{"a": 1}',
    b'{"a": NaN}', b'{"a": -Infinity}', b'{"a": "\xff"}', b'{"a": "\\ud800"}', b'{"a": 1', b"tru",
    b'{"a": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000,
])
def test_decode_json_is_json_loads_with_the_constant_hook(raw: bytes) -> None:
    try:
        expected: object = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        expected = SerializationException
        with pytest.raises(SerializationException, match="not valid JSON") as info:
            decode_json(raw)
        assert str(exc)[:200] in info.value.message
        return
    if isinstance(expected, dict):
        assert decode_json(raw) == expected
    else:
        with pytest.raises(SerializationException, match="must be a JSON object"):
            decode_json(raw)


@pytest.mark.parametrize("form", ["dense", "local"])
def test_weighted_row_sum_is_the_weighted_product_of_bs_rows(form: str) -> None:
    # Summed row by row in place (no BLAS threads on the serving path): the product's value to float
    # tolerance, with repeated, zero and tiny weights, for a dense B and a sparse one with dense rows.
    rng = np.random.default_rng(3)
    dense = rng.standard_normal((300, 300)).astype(np.float32)
    dense[rng.random((300, 300)) < 0.9] = 0.0
    dense[:40] = rng.standard_normal((40, 300)).astype(np.float32)  # heavy rows (kept dense in local B)
    b = dense if form == "dense" else sp.csr_matrix(dense)
    cols = np.array([0, 3, 39, 40, 41, 150, 299])
    weights = np.array([1.0, 0.5, 1e-6, 0.0, 0.25, 1.0, 0.125], dtype=np.float32)
    got = weighted_row_sum(b, cols, weights)
    assert got.dtype == np.float32 and got.shape == (300,)
    np.testing.assert_allclose(got, weights @ dense[cols], rtol=1e-5, atol=1e-5)

