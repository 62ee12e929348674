"""Who can reach the engine and what it can touch: SigV4 signatures with the engine's key pair (raw HTTP
and boto3), the Host and Origin checks that keep web pages out, `file://` locations held to the allowed
roots (no `..`, symlink, host, query, FIFO, device or oversized file), the generated credentials file,
`--no-auth`, and stopping with a stuck job while the data dir stays locked until the process exits."""

from __future__ import annotations

import configparser
import datetime
import fcntl
import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import boto3
import botocore.auth
import pytest
from botocore.exceptions import ClientError

from engine.locations import LocationError, Locations
from services.data.schemas import demo_shop_schema
from tests.support.engine_process import CREDENTIALS, TEST_CONFIG, EngineProcess, wait_for
from tests.support.engine_shop import settle
from tests.support.signing import signed_headers

ROLE = "arn:aws:iam::000000000000:role/test"
GRACE = 5.0  # engine.server.SHUTDOWN_GRACE, the documented grace
CSV = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu1,i1,1700000000,view,1\nu2,i2,1700000100,purchase,1\n"


def send(engine_url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         sign: bool = True, **signing: str) -> tuple[int, dict]:
    url = urlparse(engine_url)
    headers = dict(headers or {})
    if sign:
        headers = signed_headers(engine_url, method, path, body, headers, **signing)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def list_groups(**extra: str) -> dict[str, str]:
    return {"X-Amz-Target": "AmazonPersonalize.ListDatasetGroups", "Content-Type": "application/x-amz-json-1.1",
            **extra}


def client_with(engine: EngineProcess, service: str, key_id: str, secret: str):
    return boto3.client(service, endpoint_url=engine.url, config=TEST_CONFIG, region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret)


# ---------------------------------------------------------------- signatures
def test_a_request_without_a_signature_is_refused(engine) -> None:
    status, body = send(engine.url, "POST", "/", b"{}", list_groups(), sign=False)
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    status, body = send(engine.url, "POST", "/recommendations", b'{"campaignArn": "x", "userId": "u"}',
                        {"Content-Type": "application/json"}, sign=False)
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    status, _ = send(engine.url, "POST", "/", b"{}", list_groups())  # the same request, signed
    assert status == 200


def test_a_wrong_secret_an_unknown_key_and_a_changed_body_are_refused(engine, personalize) -> None:
    with pytest.raises(ClientError) as wrong:
        client_with(engine, "personalize", CREDENTIALS["aws_access_key_id"], "not-the-secret").list_dataset_groups()
    assert wrong.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert wrong.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as unknown:
        client_with(engine, "personalize-runtime", "AKIAUNKNOWN000000000",
                    CREDENTIALS["aws_secret_access_key"]).get_recommendations(campaignArn="x", userId="u")
    assert unknown.value.response["Error"]["Code"] == "UnrecognizedClientException"
    # A signature covers the body: one changed after signing is refused, and nothing is created.
    body = json.dumps({"name": "signed-name"}).encode()
    headers = signed_headers(engine.url, "POST", "/", body, {"X-Amz-Target": "AmazonPersonalize.CreateDatasetGroup",
                                                             "Content-Type": "application/x-amz-json-1.1"})
    status, answer = send(engine.url, "POST", "/", body.replace(b"signed", b"forged"), headers, sign=False)
    assert (status, answer["__type"]) == (403, "InvalidSignatureException")
    assert not [g for g in personalize.list_dataset_groups()["datasetGroups"] if g["name"] == "forged-name"]


def test_a_signature_from_a_skewed_clock_is_refused(engine, monkeypatch) -> None:
    def signed_at(minutes: int) -> tuple[int, dict]:
        moment = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(minutes=minutes)
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moment)
        return send(engine.url, "POST", "/", b"{}", list_groups())

    status, body = signed_at(-20)
    assert (status, body["__type"]) == (403, "InvalidSignatureException") and "expired" in body["message"]
    assert signed_at(20)[0] == 403
    assert signed_at(-10)[0] == 200  # within AWS's 15 minutes


# ---------------------------------------------------------------- browsers
def test_a_foreign_host_is_refused(engine) -> None:
    port = urlparse(engine.url).port
    status, body = send(engine.url, "POST", "/", b"{}", list_groups(Host=f"rebound.example:{port}"))
    assert (status, body["__type"]) == (403, "AccessDeniedException") and "rebound.example" in body["message"]
    status, body = send(engine.url, "GET", "/_engine/health", headers={"Host": "rebound.example"}, sign=False)
    assert status == 403 and "dataDir" not in body
    assert send(engine.url, "POST", "/", b"{}", list_groups(Host=f"localhost:{port}"))[0] == 200


def test_requests_with_an_origin_are_refused(engine) -> None:
    status, body = send(engine.url, "POST", "/", b"{}", list_groups(Origin="https://page.example"))
    assert (status, body["__type"]) == (403, "AccessDeniedException")
    # A cross-origin "simple" POST (text/plain, no preflight) to the events API, as a web page sends it.
    items = {"datasetArn": "arn:aws:personalize:us-east-1:000000000000:dataset/x/ITEMS",
             "items": [{"itemId": "from-a-page", "properties": "{}"}]}
    status, body = send(engine.url, "POST", "/items", json.dumps(items).encode(),
                        {"Content-Type": "text/plain", "Origin": "http://page.example"}, sign=False)
    assert (status, body["__type"]) == (403, "AccessDeniedException")
    status, body = send(engine.url, "OPTIONS", "/", headers={"Origin": "http://page.example",
                                                             "Access-Control-Request-Method": "POST"}, sign=False)
    assert status == 403 and body["__type"] == "AccessDeniedException"


# ---------------------------------------------------------------- files
@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """An engine allowed one root, with a small file-size cap, one more Host name and one origin."""
    tmp = tmp_path_factory.mktemp("security")
    root = tmp / "root"
    root.mkdir()
    (root / "events.csv").write_text(CSV)
    (tmp / "outside").mkdir()
    engine = EngineProcess.start(tmp / "engine", file_roots=[root],
                                 extra_args=["--max-file-bytes", "4096", "--allow-host", "proxy.example",
                                             "--allow-origin", "https://dash.example"])
    personalize = engine.client("personalize")
    group = personalize.create_dataset_group(name="sec-files")["datasetGroupArn"]
    settle(lambda: personalize.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
    schema = personalize.create_schema(name="sec-files-interactions",
                                       schema=json.dumps(demo_shop_schema("Interactions").to_dict()))["schemaArn"]
    dataset = personalize.create_dataset(name="sec-files-interactions", schemaArn=schema, datasetGroupArn=group,
                                         datasetType="Interactions")["datasetArn"]
    settle(lambda: personalize.describe_dataset(datasetArn=dataset), "dataset")
    yield {"engine": engine, "p": personalize, "root": root, "tmp": tmp, "dataset": dataset}
    engine.stop()


def _import(g: dict, location: str, name: str) -> dict:
    arn = g["p"].create_dataset_import_job(jobName=name, datasetArn=g["dataset"], roleArn=ROLE,
                                           dataSource={"dataLocation": location})["datasetImportJobArn"]
    return settle(lambda: g["p"].describe_dataset_import_job(datasetImportJobArn=arn), "datasetImportJob")


def _refused(g: dict, location: str) -> str:
    t0 = time.monotonic()
    with pytest.raises(ClientError) as refused:
        g["p"].create_dataset_import_job(jobName=f"refused-{abs(hash(location)) % 10**8}", datasetArn=g["dataset"],
                                         dataSource={"dataLocation": location}, roleArn=ROLE)
    assert time.monotonic() - t0 < 10  # refused at once: nothing waited on a FIFO or read a device
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    return refused.value.response["Error"]["Message"]


def test_locations_outside_the_roots_are_refused_without_echoing_content(guarded) -> None:
    root, tmp = guarded["root"], guarded["tmp"]
    (tmp / "outside" / "secret.csv").write_text("USER_ID,ITEM_ID\nTOP-SECRET-LINE,1\n")
    (root / "link.csv").symlink_to(tmp / "outside" / "secret.csv")
    (root / "linked-dir").symlink_to(tmp / "outside")
    os.mkfifo(root / "pipe.csv")
    for location in (
        "file:///etc/passwd",
        "file:///etc/",
        "file:///dev/zero",
        f"file://{root}/../outside/secret.csv",
        f"file://{root}/%2e%2e/outside/secret.csv",
        f"file://{root}/%2E%2E%2Foutside%2Fsecret.csv",
        (root / "link.csv").as_uri(),
        f"{(root / 'linked-dir').as_uri()}/secret.csv",
        f"file://elsewhere.example{root}/events.csv",
        f"{(root / 'events.csv').as_uri()}?x=1",
        f"{(root / 'events.csv').as_uri()}#frag",
        "file:relative/events.csv",
    ):
        message = _refused(guarded, location)
        assert "TOP-SECRET-LINE" not in message and "root:" not in message
        if location.startswith("file:///e") or ".." in location or "link" in location:
            assert str(root) in message, message  # names the allowed roots
    assert "regular file" in _refused(guarded, (root / "pipe.csv").as_uri())
    assert guarded["engine"].process.poll() is None


def test_locations_inside_the_roots_still_import(guarded) -> None:
    root = guarded["root"]
    assert _import(guarded, (root / "events.csv").as_uri(), "sec-plain")["status"] == "ACTIVE"
    assert _import(guarded, f"file://localhost{root}/events.csv", "sec-localhost")["status"] == "ACTIVE"
    assert _import(guarded, f"file://{root}/sub/../events.csv", "sec-dotdot-inside")["status"] == "ACTIVE"


def test_a_file_over_the_size_cap_fails_its_import(guarded) -> None:
    big = guarded["root"] / "big.csv"
    big.write_text(CSV + "u3,i3,1700000200,view,1\n" * 400)
    job = _import(guarded, big.as_uri(), "sec-too-big")
    assert job["status"] == "CREATE FAILED" and "4096" in job["failureReason"]


def test_reads_never_block_on_a_fifo_or_read_a_device(tmp_path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    files = Locations([tmp_path, "/dev"], max_file_bytes=1024)
    outcome: list[str] = []

    def read(uri: str) -> None:
        try:
            files.read_bytes(uri)
            outcome.append("read")
        except LocationError as exc:
            outcome.append(str(exc))

    for uri in (fifo.as_uri(), "file:///dev/zero"):
        worker = threading.Thread(target=read, args=(uri,), daemon=True)
        worker.start()
        worker.join(timeout=5)
        assert not worker.is_alive(), f"reading {uri} blocked"
    assert len(outcome) == 2 and all("regular files" in o for o in outcome), outcome


def test_outputs_are_new_files_inside_the_roots(guarded) -> None:
    p, root, tmp = guarded["p"], guarded["root"], guarded["tmp"]
    (root / "out-link").symlink_to(tmp / "outside")

    def export(name: str, path: str) -> str:
        return p.create_dataset_export_job(jobName=name, datasetArn=guarded["dataset"], ingestionMode="BULK",
                                           roleArn=ROLE, jobOutput={"s3DataDestination": {"path": path}}
                                           )["datasetExportJobArn"]

    for path in ((tmp / "outside").as_uri(), f"{(root / 'out').as_uri()}?v=1", f"{(root / 'out').as_uri()}#x",
                 (root / "out-link").as_uri(), "file:///etc/cron.d"):
        with pytest.raises(ClientError) as refused:
            export(f"sec-out-{abs(hash(path)) % 10**8}", path)
        assert refused.value.response["Error"]["Code"] == "InvalidInputException", path
    assert not list((tmp / "outside").iterdir()) or all(f.name == "secret.csv" for f in (tmp / "outside").iterdir())
    # An existing file is never replaced: the job fails and the file keeps its content.
    (root / "exports").mkdir()
    (root / "exports" / "sec-existing.csv").write_text("keep me\n")
    arn = export("sec-existing", (root / "exports").as_uri())
    job = settle(lambda: p.describe_dataset_export_job(datasetExportJobArn=arn), "datasetExportJob")
    assert job["status"] == "CREATE FAILED" and "already exists" in job["failureReason"]
    assert (root / "exports" / "sec-existing.csv").read_text() == "keep me\n"
    arn = export("sec-new", (root / "exports").as_uri())
    job = settle(lambda: p.describe_dataset_export_job(datasetExportJobArn=arn), "datasetExportJob")
    assert job["status"] == "ACTIVE"
    assert (root / "exports" / "sec-new.csv").is_file()
    assert not [f for f in (root / "exports").iterdir() if f.name.endswith(".tmp")]


def test_allowed_host_and_origin(guarded) -> None:
    url = guarded["engine"].url
    port = urlparse(url).port
    assert send(url, "POST", "/", b"{}", list_groups(Host=f"proxy.example:{port}"))[0] == 200
    assert send(url, "POST", "/", b"{}", list_groups(Origin="https://dash.example"))[0] == 200
    assert send(url, "POST", "/", b"{}", list_groups(Origin="https://other.example"))[0] == 403


# ---------------------------------------------------------------- credentials
NO_KEYS = {"PERSONALIZE_ENGINE_ACCESS_KEY_ID": "", "PERSONALIZE_ENGINE_SECRET_ACCESS_KEY": ""}


def test_generated_credentials_file_serves_boto3_the_cli_and_the_dashboard(tmp_path, monkeypatch) -> None:
    log = tmp_path / "engine.log"
    engine = EngineProcess.start(tmp_path / "engine", extra_env=NO_KEYS, log_path=log)
    try:
        path = tmp_path / "engine" / "credentials"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        parser = configparser.ConfigParser()
        parser.read(path)
        pair = parser["personalize-local"]
        assert str(path) in log.read_text()  # it says where the pair is
        assert client_with(engine, "personalize", pair["aws_access_key_id"],
                           pair["aws_secret_access_key"]).list_dataset_groups()["datasetGroups"] == []
        assert send(engine.url, "POST", "/", b"{}", list_groups())[0] == 403  # the test pair is not this one
        env = {**os.environ, "AWS_SHARED_CREDENTIALS_FILE": str(path), "AWS_PROFILE": "personalize-local",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1"}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env.pop(name, None)
        out = subprocess.run([sys.executable, "-m", "awscli", "personalize", "list-dataset-groups",
                              "--endpoint-url", engine.url], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0 and "datasetGroups" in out.stdout, out.stderr
        # The dashboard's clients find the pair without being told (an engine on PERSONALIZE_ENGINE_URL).
        from services.core.clients import Clients
        from services.core.config import LOCAL, BackendInfo

        for name in NO_KEYS:
            monkeypatch.delenv(name, raising=False)
        clients = Clients(BackendInfo(LOCAL, "us-east-1", engine.url, tmp_path / "engine"))
        assert clients.personalize.list_dataset_groups()["datasetGroups"] == []
    finally:
        engine.stop()
    # A restart keeps the same pair.
    before = path.read_text()
    EngineProcess.start(tmp_path / "engine", extra_env=NO_KEYS).stop()
    assert path.read_text() == before


def test_no_auth_says_so_and_accepts_unsigned_requests(tmp_path) -> None:
    log = tmp_path / "engine.log"
    engine = EngineProcess.start(tmp_path / "engine", extra_args=["--no-auth"], log_path=log)
    try:
        assert "NOT authenticated" in log.read_text()
        assert send(engine.url, "POST", "/", b"{}", list_groups(), sign=False)[0] == 200
        assert send(engine.url, "POST", "/", b"{}", list_groups(Origin="https://page.example"), sign=False)[0] == 403
    finally:
        engine.stop()


# ---------------------------------------------------------------- stopping
def _lock_is_free(data_dir: Path) -> bool:
    with (data_dir / "engine.lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
        return True


def test_sigterm_with_a_stuck_job_exits_within_the_grace_and_keeps_the_lock_until_exit(tmp_path) -> None:
    # An S3 server that accepts connections and never answers: the import's read is stuck in a worker.
    # (A FIFO can no longer stick a job: it is refused before anything reads it.)
    silent = socket.create_server(("127.0.0.1", 0), backlog=16)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(silent.accept()[0]) for _ in range(8)], daemon=True).start()
    data_dir = tmp_path / "engine"
    engine = EngineProcess.start(data_dir, extra_env={
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{silent.getsockname()[1]}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    try:
        p = engine.client("personalize")
        group = p.create_dataset_group(name="sec-stop")["datasetGroupArn"]
        settle(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
        schema = p.create_schema(name="sec-stop-i", schema=json.dumps(demo_shop_schema("Interactions").to_dict()))
        dataset = p.create_dataset(name="sec-stop-i", schemaArn=schema["schemaArn"], datasetGroupArn=group,
                                   datasetType="Interactions")["datasetArn"]
        settle(lambda: p.describe_dataset(datasetArn=dataset), "dataset")
        job = p.create_dataset_import_job(jobName="sec-stuck", datasetArn=dataset, roleArn=ROLE,
                                          dataSource={"dataLocation": "s3://bucket/events.csv"})["datasetImportJobArn"]
        wait_for(lambda: p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]["status"],
                 lambda status: status == "CREATE IN_PROGRESS", timeout=30)
        wait_for(lambda: len(held), bool, timeout=30)  # the read has reached the silent server
        assert not _lock_is_free(data_dir)
        t0 = time.monotonic()
        engine.process.send_signal(signal.SIGTERM)
        while engine.process.poll() is None:
            assert not _lock_is_free(data_dir), "the data-dir lock was released before the process exited"
            assert time.monotonic() - t0 < GRACE + 5, "the engine did not exit within its grace"
            time.sleep(0.05)  # then poll the process and its lock again
        assert time.monotonic() - t0 < GRACE + 3
        assert _lock_is_free(data_dir) and not (data_dir / "engine.url").exists()
    finally:
        engine.stop(signal.SIGKILL)
        silent.close()
        for conn in held:
            conn.close()
    again = EngineProcess.start(data_dir)
    try:
        record = again.client("personalize").describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]
        assert record["status"] == "CREATE FAILED"
    finally:
        again.stop()


def test_a_start_removes_model_files_no_active_version_owns(tmp_path) -> None:
    engine = EngineProcess.start(tmp_path / "engine")
    engine.stop()
    models = tmp_path / "engine" / "models"
    models.mkdir(exist_ok=True)
    (models / "gone-12345678.pkl").write_bytes(b"x" * 100)  # a version that never became ACTIVE
    (models / "gone-12345678.pkl.tmp").write_bytes(b"x")  # a save cut short
    EngineProcess.start(tmp_path / "engine").stop()
    assert list(models.iterdir()) == []


def test_the_dashboards_engine_signs_with_generated_keys_and_reads_only_its_staging(tmp_path, monkeypatch) -> None:
    from services.core import local_engine
    from services.core.clients import Clients
    from services.core.config import LOCAL, BackendInfo, staging_dir

    monkeypatch.setenv("PERSONALIZE_DATA_DIR", str(tmp_path))
    for name in NO_KEYS:
        monkeypatch.delenv(name, raising=False)
    engine = local_engine.start(tmp_path / "engine")
    try:
        assert (tmp_path / "engine" / "credentials").is_file()
        p = Clients(BackendInfo(LOCAL, "us-east-1", engine.url, engine.data_dir)).personalize
        group = p.create_dataset_group(name="dash-files")["datasetGroupArn"]
        settle(lambda: p.describe_dataset_group(datasetGroupArn=group), "datasetGroup")
        schema = p.create_schema(name="dash-files-i", schema=json.dumps(demo_shop_schema("Interactions").to_dict()))
        dataset = p.create_dataset(name="dash-files-i", schemaArn=schema["schemaArn"], datasetGroupArn=group,
                                   datasetType="Interactions")["datasetArn"]
        settle(lambda: p.describe_dataset(datasetArn=dataset), "dataset")
        staged = staging_dir() / "events.csv"
        staged.write_text(CSV)
        elsewhere = tmp_path / "elsewhere.csv"
        elsewhere.write_text(CSV)
        arn = p.create_dataset_import_job(jobName="dash-staged", datasetArn=dataset, roleArn=ROLE,
                                          dataSource={"dataLocation": staged.as_uri()})["datasetImportJobArn"]
        assert settle(lambda: p.describe_dataset_import_job(datasetImportJobArn=arn),
                      "datasetImportJob")["status"] == "ACTIVE"
        with pytest.raises(ClientError) as refused:
            p.create_dataset_import_job(jobName="dash-elsewhere", datasetArn=dataset, roleArn=ROLE,
                                        dataSource={"dataLocation": elsewhere.as_uri()})
        assert str(staging_dir()) in refused.value.response["Error"]["Message"]
    finally:
        engine.stop()


def test_training_interrupted_by_a_stop_ends_failed_with_no_model_and_writes_nothing_after(tmp_path) -> None:
    """A stop that arrives while a version trains: the real training finishes its fit, sees the stop
    flag, records CREATE FAILED and saves no model; the closed store then refuses every write."""
    from engine.backend import Backend
    from engine.resources.jobs import STOPPED_REASON
    from engine.store import StoreClosed
    from tests.support.engine_shop import build_shop

    engine = EngineProcess.start(tmp_path / "engine")
    try:
        personalize = engine.client("personalize")
        shop = build_shop(personalize, tmp_path, "stopped")
        solution = personalize.create_solution(name="stopped", datasetGroupArn=shop.group,
                                               recipeArn="arn:aws:personalize:::recipe/aws-popularity-count")
        settle(lambda: personalize.describe_solution(solutionArn=solution["solutionArn"]), "solution")
    finally:
        engine.stop()
    backend = Backend(tmp_path / "engine", file_roots=[tmp_path])
    versions = backend.solution_versions
    real_train = versions._train

    def train_then_stop(version: dict):
        result = real_train(version)
        backend.ledger.stopping.set()  # the engine is asked to stop while this version trains
        return result

    versions._train = train_then_stop
    arn = versions.create(solution_arn=solution["solutionArn"])
    record = wait_for(lambda: backend.describe("solution-version", arn), lambda r: r["status"] not in PENDING_STATES,
                      timeout=120)
    assert (record["status"], record["failureReason"]) == ("CREATE FAILED", STOPPED_REASON)
    assert not backend.ledger.model_path(arn).exists()
    assert backend.shutdown(grace=5.0)
    with pytest.raises(StoreClosed):
        backend.ledger.set_status(arn, "ACTIVE")


PENDING_STATES = ("CREATE PENDING", "CREATE IN_PROGRESS")
