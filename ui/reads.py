"""Cached reads shared by every page: one cache per read, keyed the same way everywhere.

Each read is keyed by the backend it asks (kind, region, endpoint) and its arguments, so two pages
asking the same thing share one entry and a switch of backend never serves the other one's answer.
After an action, clear only the reads it changed (`reads.datasets.clear()`), never every cache of the
app: the others stay warm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

import streamlit as st

from services.core import resources
from services.core.resources import Dataset, DatasetGroup
from services.data import dataset_status, import_safety, imports
from services.data.schemas import SchemaSpec
from services.models import campaign_health as ch
from services.models import recommenders as rs
from services.recommendations import events as ev
from services.recommendations import side_by_side as recs
from ui import context

P = ParamSpec("P")
T = TypeVar("T")
BackendKey = tuple[str, str, str | None]


def _backend_key() -> BackendKey:
    info = context.backend_info()
    return info.kind, info.region, info.endpoint_url


class Read(Generic[P, T]):
    """A cached read called without its backend key; `.clear()` drops this read's entries only."""

    def __init__(self, cached: Callable[..., T]) -> None:
        self._cached = cached

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._cached(_backend_key(), *args, **kwargs)

    def clear(self) -> None:
        self._cached.clear()  # type: ignore[attr-defined]


@st.cache_data(ttl=10, show_spinner=False)
def _dataset_groups(backend: BackendKey) -> list[DatasetGroup]:
    return resources.dataset_groups(context.clients().personalize)


@st.cache_data(ttl=15, show_spinner=False)
def _group(backend: BackendKey, group_arn: str) -> DatasetGroup:
    return resources.describe_group(context.clients().personalize, group_arn)


@st.cache_data(ttl=5, show_spinner=False)
def _datasets(backend: BackendKey, group_arn: str) -> dict[str, Dataset]:
    return resources.datasets_by_type(context.clients().personalize, group_arn)


@st.cache_data(ttl=30, show_spinner=False)
def _dataset_schema(backend: BackendKey, dataset_arn: str) -> SchemaSpec:
    return imports.dataset_schema(context.clients().personalize, dataset_arn)


@st.cache_data(ttl=5, show_spinner=False)
def _dataset_contents(backend: BackendKey, dataset_arn: str, dataset_type: str) -> import_safety.DatasetContents:
    return import_safety.dataset_contents(context.clients().personalize, dataset_arn, dataset_type)


@st.cache_data(ttl=15, show_spinner="Reading the dataset group…")
def _group_status(backend: BackendKey, group_arn: str) -> dataset_status.GroupStatus:
    return dataset_status.dataset_group_status(context.clients().personalize, group_arn)


@st.cache_data(ttl=15, show_spinner=False)
def _campaign_health(backend: BackendKey, group_arn: str
                     ) -> tuple[list[ch.CampaignHealth], list[ch.AutoTrainingFlag]]:
    p = context.clients().personalize
    return ch.campaign_health(p, group_arn, backend[1]), ch.auto_training_flags(p, group_arn)


@st.cache_data(ttl=15, show_spinner=False)
def _recommender_health(backend: BackendKey, group_arn: str) -> list[rs.RecommenderHealth]:
    return rs.recommender_health(context.clients().personalize, group_arn, backend[1])


@st.cache_data(ttl=30, show_spinner=False)
def _campaigns(backend: BackendKey, group_arn: str) -> list[recs.CampaignInfo]:
    return recs.list_campaigns(context.clients().personalize, group_arn)


@st.cache_data(ttl=30, show_spinner=False)
def _filters(backend: BackendKey, group_arn: str) -> list[dict]:
    return recs.list_filters(context.clients().personalize, group_arn)


@st.cache_data(ttl=60, show_spinner="Reading the staged data files…")
def _group_data(backend: BackendKey, group_arn: str) -> recs.GroupData:
    return recs.load_group_data(context.clients().personalize, group_arn)


@st.cache_data(ttl=15, show_spinner=False)
def _trackers(backend: BackendKey, group_arn: str) -> list[ev.Tracker]:
    return ev.list_trackers(context.clients().personalize, group_arn)


dataset_groups: Read[[], list[DatasetGroup]] = Read(_dataset_groups)
group: Read[[str], DatasetGroup] = Read(_group)
datasets: Read[[str], dict[str, Dataset]] = Read(_datasets)
dataset_schema: Read[[str], SchemaSpec] = Read(_dataset_schema)
dataset_contents: Read[[str, str], import_safety.DatasetContents] = Read(_dataset_contents)
group_status: Read[[str], dataset_status.GroupStatus] = Read(_group_status)
campaign_health: Read[[str], tuple[list[ch.CampaignHealth], list[ch.AutoTrainingFlag]]] = Read(_campaign_health)
recommender_health: Read[[str], list[rs.RecommenderHealth]] = Read(_recommender_health)
campaigns: Read[[str], list[recs.CampaignInfo]] = Read(_campaigns)
filters: Read[[str], list[dict]] = Read(_filters)
group_data: Read[[str], recs.GroupData] = Read(_group_data)
trackers: Read[[str], list[ev.Tracker]] = Read(_trackers)

# What a new or deleted campaign, filter, import or solution version can change.
GROUP_CONTENTS = (datasets, group_status, campaign_health, recommender_health, campaigns, filters, group_data)


def clear(*reads: Read) -> None:
    for read in reads:
        read.clear()
