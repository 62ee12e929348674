"""services.core.config.resolve_backend: the one backend choice of the dashboard and the pipeline command."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.config import AWS, LOCAL, resolve_backend


def _no_engine(data_dir: Path) -> tuple[str, Path]:
    raise AssertionError("no engine should start here")


def test_an_explicit_endpoint_is_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONALIZE_BACKEND", "aws")
    info = resolve_backend("http://127.0.0.1:9/", region="eu-west-1", start_engine=_no_engine)
    assert (info.kind, info.region, info.endpoint_url) == (LOCAL, "eu-west-1", "http://127.0.0.1:9")


def test_aws_honours_the_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", "https://personalize.example")
    info = resolve_backend(kind=AWS, region="us-east-1", start_engine=_no_engine)
    assert (info.kind, info.endpoint_url, info.data_dir) == (AWS, "https://personalize.example", None)


def test_local_uses_a_running_engine_or_starts_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERSONALIZE_BACKEND", "local")
    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PERSONALIZE_ENGINE_URL", "http://127.0.0.1:8765/")
    assert resolve_backend(region="us-east-1", start_engine=_no_engine).endpoint_url == "http://127.0.0.1:8765"
    monkeypatch.delenv("PERSONALIZE_ENGINE_URL")
    started: list[Path] = []

    def start(data_dir: Path) -> tuple[str, Path]:
        started.append(data_dir)
        return "http://127.0.0.1:1234", data_dir

    info = resolve_backend(region="us-east-1", start_engine=start)
    assert (info.kind, info.endpoint_url, info.data_dir) == (LOCAL, "http://127.0.0.1:1234", tmp_path / "engine")
    assert started == [tmp_path / "engine"]
