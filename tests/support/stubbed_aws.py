"""A real boto3 Personalize client answered by botocore's Stubber: requests and answers are checked
against AWS's own shapes, and every queued answer must be used."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.stub import Stubber


def stubbed_personalize() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    with stub:
        yield client, stub
    stub.assert_no_pending_responses()
