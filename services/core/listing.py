"""Read every page of a Personalize List* call (boto3's paginators follow nextToken)."""

from __future__ import annotations

from typing import Any


def list_all(client: Any, operation: str, key: str, **params: Any) -> list[dict]:
    if client.can_paginate(operation):
        out: list[dict] = []
        for page in client.get_paginator(operation).paginate(**params):
            out.extend(page.get(key, []))
        return out
    return list(getattr(client, operation)(**params).get(key, []))
