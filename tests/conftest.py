"""Shared fixtures: a real engine process on a free port with a temporary data directory."""

from __future__ import annotations

import os

import pytest

from tests.support.engine_process import KEY_ENV, EngineProcess

# Dummy credentials for every boto3 client a test makes, so no test ever reaches a real account.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)
# The test engines' key pair, where the dashboard's clients (services.core.clients) look for it.
for _name, _value in KEY_ENV.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory):
    proc = EngineProcess.start(tmp_path_factory.mktemp("engine-data"))
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def personalize(engine: EngineProcess):
    return engine.client("personalize")


@pytest.fixture(scope="session")
def personalize_runtime(engine: EngineProcess):
    return engine.client("personalize-runtime")


@pytest.fixture(scope="session")
def personalize_events(engine: EngineProcess):
    return engine.client("personalize-events")


@pytest.fixture
def clients(engine: EngineProcess, tmp_path, monkeypatch):
    """The dashboard's clients on the test engine, with this test's own data dir (staged files land there)."""
    from tests.support.shops import clients_for

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    return clients_for(engine.url)
