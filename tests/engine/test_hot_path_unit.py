"""The serving hot path's shortcuts give exactly what the library calls they replace give."""

from __future__ import annotations

import numpy as np
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials

from engine.auth import _Recompute, _WireRequest
from engine.recipes.selection import standardised


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
    ours = _Recompute(Credentials("AKID", "secret"), "personalize", "us-east-1", signed, b"k" * 32)
    assert ours.canonical_request(request) == _Botocore(signed).canonical_request(request)
