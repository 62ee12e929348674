"""Filter resources of a dataset group, with their parsed expressions kept for the serving path."""

from __future__ import annotations

from .. import filters as expressions
from ..errors import InvalidInputException
from .deletion import Deletions
from .jobs import JobPool
from .ledger import Ledger, check_name
from .records import FilterRecord

MAX_PARAMETERS = 5


class Filters:
    def __init__(self, ledger: Ledger, light: JobPool, deletions: Deletions) -> None:
        self._ledger = ledger
        self._light = light
        self._deletions = deletions
        deletions.register("filter", lambda record: self._clauses.pop(record["filterArn"], None))
        self._clauses: dict[str, list[expressions.Clause]] = {}
        for record in ledger.store.list("filter", lambda r: r.get("status") == "ACTIVE"):
            self._clauses[record["filterArn"]] = expressions.parse(record["filterExpression"])

    def create(
        self, name: str, dataset_group_arn: str, filter_expression: str, tags: list | None = None, **_: object,
    ) -> str:
        check_name(name, "filter")
        self._ledger.get(dataset_group_arn, "dataset-group")
        clauses = expressions.parse(filter_expression)
        if len(expressions.parameters(clauses)) > MAX_PARAMETERS:
            raise InvalidInputException("A filter takes at most 5 placeholder parameters.")
        arn = self._ledger.arn("filter", name)
        record = FilterRecord(name=name, filter_arn=arn, dataset_group_arn=dataset_group_arn,
                              filter_expression=filter_expression)
        self._ledger.new("filter", arn, record, tags)
        self._clauses[arn] = clauses
        self._light.submit(self._ledger.activate, arn)
        return arn

    def delete(self, filter_arn: str) -> None:
        self._deletions.start(filter_arn, "filter")

    def clauses(self, arn: str, group_arn: str) -> list[expressions.Clause]:
        """The filter's parsed expression, for a campaign of `group_arn` (filters do not cross groups)."""
        store = self._ledger.store
        # peek, not get: this runs on every filtered request, and get's deep copy cost a tenth of one.
        record = store.peek(arn) if isinstance(arn, str) and store.kind_of(arn) == "filter" else None
        if record is None:
            record = self._ledger.get(arn, "filter")  # raises AWS's not-found error
        if record["datasetGroupArn"] != group_arn:
            raise InvalidInputException("The filter belongs to another dataset group than the campaign.")
        return self._clauses.get(arn) or expressions.parse(record["filterExpression"])
