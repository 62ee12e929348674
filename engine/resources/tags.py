"""Tags on any resource (kept in the record's internal `_tags`, never shown in Describe)."""

from __future__ import annotations

from ..errors import ResourceNotFoundException, TooManyTagKeysException
from ..store import Record, ResourceStore
from .ledger import MAX_TAGS, check_tags


class Tags:
    def __init__(self, store: ResourceStore) -> None:
        self._store = store

    def _tagged(self, arn: str) -> Record:
        rec = self._store.get(arn) if isinstance(arn, str) else None
        if rec is None:
            raise ResourceNotFoundException(f"Could not find the resource {arn}.")
        return rec

    def tag(self, resource_arn: str, tags: list[dict]) -> None:
        merged = check_tags(self._tagged(resource_arn).get("_tags") or {}, tags)
        self._store.update(resource_arn, lambda r: r.update(_tags=merged), touch=False)

    def untag(self, resource_arn: str, tag_keys: list[str]) -> None:
        self._tagged(resource_arn)
        if len(tag_keys) > MAX_TAGS:
            raise TooManyTagKeysException(f"A request removes at most {MAX_TAGS} tag keys.")
        self._store.update(
            resource_arn,
            lambda r: r.update(_tags={k: v for k, v in (r.get("_tags") or {}).items() if k not in tag_keys}),
            touch=False,
        )

    def list(self, resource_arn: str) -> list[dict]:
        rec = self._tagged(resource_arn)
        return [{"tagKey": k, "tagValue": v} for k, v in (rec.get("_tags") or {}).items()]
