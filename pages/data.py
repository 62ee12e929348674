"""Data & imports: create the dataset group, schema and datasets; bring a file, a MongoDB collection or
demo data in; validate it against the dataset's schema before anything is uploaded; stage and import."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pandas as pd
import streamlit as st

from services.core import config
from services.core.resources import Dataset, arn_name
from services.data import import_safety, imports
from services.data.schemas import DATASET_TYPES, dataset_type_description, dataset_type_title, ecommerce_schema
from services.data.sources import incremental, mongo, saved
from services.data.sources.files import read_upload
from services.data.validation import fix_timestamps, validate
from services.demo.shop_data import generate_shop
from ui import context, reads
from ui.actions import (
    can_operate,
    confirmation,
    confirmed_button,
    operator_button,
    refuse_viewer,
    request_confirmation,
    run_action,
)
from ui.feedback import attempt, show_problem
from ui.text import md

# The rows chosen for import: {"frame", "label", "version", "watermark", "watermark_ids", "source"}.
PENDING = "data_pending"
UPLOAD_GENERATION = "data_upload_generation"  # a new uploader key empties the uploader
LAUNCHED = "data_launched"  # the started import's sentence, shown once after the rerun
FULL_IMPORT = "data_full_import"
ID_CHECK = "data_id_check"  # ((dataset, pending version), IdCheck): checked once per file, not every rerun
TITLES = {t: imports.dataset_type_title(t) for t in DATASET_TYPES}


def _select_group(arn: str) -> None:
    context.select_group(arn)


def set_pending(frame: pd.DataFrame, label: str, **extra: object) -> None:
    version = st.session_state.get(PENDING, {}).get("version", 0) + 1
    st.session_state[PENDING] = {"frame": frame, "label": label, "version": version, **extra}


# ----------------------------------------------------------------------------- set-up


def create_group_form() -> None:
    with st.form("create_group"):
        name = st.text_input("Dataset group name", placeholder="my-shop")
        domain = st.selectbox(
            "Domain",
            ["ECOMMERCE", "(custom)"],
            help="ECOMMERCE enables the e-commerce recommenders and its schema presets.",
        )
        if st.form_submit_button("Create dataset group", icon=":material/add:"):
            p = context.clients().personalize
            arn = run_action(
                "create dataset group",
                {"name": name},
                lambda: imports.create_dataset_group(p, name, None if domain == "(custom)" else domain),
                success=f"Dataset group {name} created.",
            )
            if arn:
                _select_group(arn)
                st.rerun()


def create_dataset_form(group_arn: str, group_name: str, existing: dict[str, dict]) -> None:
    missing = [t for t in DATASET_TYPES if t not in existing]
    if not missing:
        st.caption("This group has all three datasets (Interactions, Items, Users).")
        return
    dtype = st.selectbox("Dataset type", missing, format_func=TITLES.get, key="new_dataset_type")
    with st.form(f"create_dataset_{dtype}"):
        name = st.text_input("Dataset name", value=f"{group_name}-{dtype.lower()}")
        schema_name = st.text_input("Schema name", value=f"{group_name}-{dtype.lower()}")
        schema_text = st.text_area(
            "Schema (Avro JSON; the ECOMMERCE preset for this type; edit to add your own fields)",
            value=ecommerce_schema(dtype).to_json(),
            height=260,
        )
        if st.form_submit_button("Create schema and dataset", icon=":material/add:"):
            p = context.clients().personalize

            def create() -> str:
                schema_arn = imports.create_schema(p, schema_name, schema_text)
                return imports.create_dataset(p, group_arn, dtype, schema_arn, name)

            if run_action(
                "create dataset",
                {"group": group_arn, "type": dtype, "name": name},
                create,
                success=f"{TITLES[dtype]} dataset {name} created.",
            ):
                reads.datasets.clear()
                st.rerun()


# ----------------------------------------------------------------------------- sources


def upload_source() -> None:
    # No uploader at all for viewers: a widget that is never drawn accepts no file, whatever a browser sends.
    if refuse_viewer("upload files"):
        return
    generation = st.session_state.get(UPLOAD_GENERATION, 0)
    uploaded = st.file_uploader("CSV or Parquet file", type=["csv", "parquet"], key=f"data_upload_{generation}")
    if uploaded is None:
        return
    pending = st.session_state.get(PENDING, {})
    if pending.get("upload_id") == uploaded.file_id:
        return  # already read (and perhaps fixed since): do not overwrite the fixed rows
    failed = st.session_state.get("data_upload_failed")
    if failed and failed[0] == uploaded.file_id:  # said once and audited once; not read again each rerun
        st.error(md(failed[1]), icon=":material/error:")
        return
    try:
        with context.audit_log().action(context.who(), context.role(), "read upload",
                                        {"file": uploaded.name, "bytes": uploaded.size}) as outcome:
            frame = read_upload(uploaded, uploaded.name)
            outcome.result = f"{len(frame):,} rows"
    except Exception as exc:  # unreadable file: say why, keep whatever was chosen before
        st.session_state["data_upload_failed"] = (uploaded.file_id, str(exc))
        show_problem(exc, f"Reading {uploaded.name}")
        return
    set_pending(frame, uploaded.name, upload_id=uploaded.file_id)


def _load_saved_source() -> None:
    """Callback: fill the MongoDB form from a saved source (before the widgets are drawn)."""
    name = st.session_state.get("mongo_saved")
    if not name:
        return
    try:
        # Secrets stay on the server: the form gets the URI masked; an unchanged mask means "the saved one".
        data = saved.shown_source(config.sources_dir(), name)
    except saved.SavedSourceError as exc:
        st.session_state["mongo_load_error"] = str(exc)
        return
    mapping = dict(data.get("mapping") or {})
    query = data.get("query")
    st.session_state.update(
        {
            "mongo_uri": data.get("uri", ""),
            "mongo_database": data.get("database", ""),
            "mongo_collection": data.get("collection", ""),
            "mongo_query": query if isinstance(query, str) else json.dumps(query or {}),
            "mongo_user": mapping.pop("USER_ID", ""),
            "mongo_item": mapping.pop("ITEM_ID", ""),
            "mongo_ts": mapping.pop("TIMESTAMP", ""),
            "mongo_etype": mapping.pop("EVENT_TYPE", ""),
            "mongo_evalue": mapping.pop("EVENT_VALUE", ""),
            "mongo_meta": "\n".join(f"{k}={v}" for k, v in mapping.items()),
            "mongo_name": name,
        }
    )


def _mongo_source(start: date | None, end: date | None) -> mongo.MongoSource:
    s = st.session_state
    mapping = {
        col: s.get(key, "").strip()
        for col, key in (
            ("USER_ID", "mongo_user"),
            ("ITEM_ID", "mongo_item"),
            ("TIMESTAMP", "mongo_ts"),
            ("EVENT_TYPE", "mongo_etype"),
            ("EVENT_VALUE", "mongo_evalue"),
        )
    }
    mapping = {k: v for k, v in mapping.items() if v}
    mapping.update(imports.parse_metadata_mapping(s.get("mongo_meta", "")))

    def as_dt(d: date | None) -> datetime | None:
        return datetime.combine(d, time.min, tzinfo=UTC) if d else None

    return mongo.MongoSource(
        uri=saved.resolve_uri(config.sources_dir(), s.get("mongo_name"), s.get("mongo_uri", "").strip()),
        database=s.get("mongo_database", "").strip(),
        collection=s.get("mongo_collection", "").strip(),
        query=s.get("mongo_query") or None,
        mapping=mapping,
        start=as_dt(start),
        end=as_dt(end),
    )


def _saved_source_picker(names: list[str]) -> None:
    if not names:
        return
    left, middle, right = st.columns([3, 1, 1], vertical_alignment="bottom")
    picked = left.selectbox("Saved sources", names, key="mongo_saved")
    middle.button("Load", on_click=_load_saved_source, icon=":material/folder_open:")
    if err := st.session_state.pop("mongo_load_error", None):
        st.error(md(err))
    with right:
        if confirmed_button("Delete", key="mongo_delete", icon=":material/delete:",
                            consequence=f"This deletes the saved source {md(picked)}; a retrain that imports "
                                        "from it will fail until it is saved again."):
            run_action("delete source", {"name": picked},
                       lambda: saved.delete_source(config.sources_dir(), picked), success=f"Deleted {picked}.")


def _connection_fields() -> tuple[date | None, date | None]:
    st.text_input(
        "Connection string",
        key="mongo_uri",
        type="password",  # it usually carries a password: never shown on screen
        placeholder="mongodb://user:password@host:27017",
        help="A saved source keeps its secrets (password, key passphrase, session token) in an owner-only file "
             "and shows them as ***; leave *** to use the saved ones, or type the whole URI again. The audit "
             "log never stores them.",
    )
    a, b = st.columns(2)
    a.text_input("Database", key="mongo_database")
    b.text_input("Collection", key="mongo_collection")
    st.text_area("Query filter (JSON, optional)", key="mongo_query", placeholder='{"country": "DE"}', height=68)
    c, d = st.columns(2)
    start = c.date_input("Events from (optional)", value=None, key="mongo_start")
    end = d.date_input("Events before (optional)", value=None, key="mongo_end")
    return start, end


def _mapping_fields() -> None:
    st.markdown("**Field mapping**: the document field (dotted path) for each column; leave empty to skip.")
    cols = st.columns(5)
    for col, (label, key, default) in zip(
        cols,
        (
            ("USER_ID", "mongo_user", "user_id"),
            ("ITEM_ID", "mongo_item", "item_id"),
            ("TIMESTAMP", "mongo_ts", "timestamp"),
            ("EVENT_TYPE", "mongo_etype", "event_type"),
            ("EVENT_VALUE", "mongo_evalue", ""),
        ),
        strict=True,
    ):
        st.session_state.setdefault(key, default)
        col.text_input(label, key=key)
    st.text_area("Metadata columns (one COLUMN=field.path a line)", key="mongo_meta", height=68)


def _source_state(saved_name: str | None, names: list[str]) -> tuple[incremental.SourceState | None, bool]:
    """The saved source's state (its ended imports settled first) and whether to export only what is new."""
    if saved_name not in names:
        return None, False
    state = attempt(lambda: incremental.source_state(context.clients().personalize, saved_name),
                    "Reading the saved source")
    if state is None:
        return None, False
    if state.running:
        st.info(
            f"The import of this source's previous export is still running ({', '.join(state.running)}); export "
            "again once it has finished: exported now, its events would be sent twice.",
            icon=":material/hourglass_top:",
        )
    if state.watermark is None:
        return state, False
    when = datetime.fromtimestamp(state.watermark, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return state, st.checkbox(f"Only events not exported yet (the last export reached {when})", value=True)


def _export_mongo(source: mongo.MongoSource, state: incremental.SourceState | None, only_new: bool,
                  saved_name: str | None) -> None:
    if state is not None and state.running:
        st.warning("Not exported: the previous export's import has not finished yet (see above).",
                   icon=":material/hourglass_top:")
        return
    with st.spinner("Exporting from MongoDB…"):
        result = run_action("export source", _source_params(source, saved_name, only_new=only_new),
                            lambda: incremental.export_mongo(source, state if only_new else None))
    if result is None:
        return
    note = (f" ({result.skipped_rows:,} documents without a user, item or time were left out)"
            if result.skipped_rows else "")
    st.success(f"Exported {result.rows:,} events{note}.")
    set_pending(result.frame, f"MongoDB {source.database}.{source.collection}", watermark=result.watermark,
                watermark_ids=result.watermark_ids, source=saved_name)


def mongo_source() -> None:
    names = saved.list_sources(config.sources_dir())
    _saved_source_picker(names)
    start, end = _connection_fields()
    _mapping_fields()
    saved_name = st.session_state.get("mongo_name")
    state, only_new = _source_state(saved_name, names)
    check, show, export, save = st.columns(4)
    try:
        source = _mongo_source(start, end)
    except imports.ImportInputError as exc:
        show_problem(exc, "Field mapping")
        return
    # Every action below connects to a server the form names or changes what the nightly retrain reads:
    # operators only (checked where it runs, not only by the disabled buttons), and audited.
    with check:
        if operator_button("Check connection", key="mongo_check", icon=":material/lan:"):
            result = run_action("check source", _source_params(source, saved_name),
                                lambda: mongo.check_connection(source))
            if result is not None:
                (st.success if result.ok else st.error)(md(result.message))
    with show:
        if operator_button("Preview 20", key="mongo_preview", icon=":material/visibility:"):
            frame = run_action("preview source", _source_params(source, saved_name), lambda: mongo.preview(source))
            if frame is not None:
                st.dataframe(frame, hide_index=True)
    with export:
        if operator_button("Export for import", key="mongo_export", type="primary", icon=":material/download:"):
            _export_mongo(source, state, only_new, saved_name)
    with save.popover("Save source", icon=":material/save:", disabled=not can_operate()):
        name = st.text_input("Name", value=saved_name or "", key="mongo_save_as")
        if operator_button("Save", key="mongo_save") and run_action(
            "save source", _source_params(source, name), lambda: saved.save_source(config.sources_dir(), name, source)
        ):
            st.session_state["mongo_name"] = name
            st.success(f"Saved {md(name)}: the retrain pipeline can reuse it.")


def _source_params(source: mongo.MongoSource, name: str | None, **extra: object) -> dict[str, object]:
    """What the audit log keeps of a source action (the URI is stored with its secrets masked)."""
    return {"name": name, "uri": source.uri, "database": source.database, "collection": source.collection,
            **extra}


def demo_source(dtype: str) -> None:
    a, b, c, d = st.columns(4)
    users = a.number_input("Users", 30, 200_000, 1_500, step=100)
    items = b.number_input("Items", 10, 50_000, 600, step=50)
    events = c.number_input("Interactions", 100, 5_000_000, 32_000, step=1_000)
    seed = d.number_input("Seed", 0, 10_000, 7)
    if st.button("Generate", icon=":material/casino:"):
        shop = attempt(lambda: generate_shop(int(users), int(items), int(events), seed=int(seed)), "Generating")
        if shop is not None:
            frame = {"INTERACTIONS": shop.interactions, "ITEMS": shop.items, "USERS": shop.users}[dtype]
            set_pending(frame, f"demo {TITLES[dtype].lower()} (seed {seed})")


# ----------------------------------------------------------------------------- validation and import


def _fix_timestamps() -> None:
    pending = st.session_state[PENDING]
    set_pending(
        fix_timestamps(pending["frame"]),
        pending["label"] + " (timestamps fixed)",
        **{k: v for k, v in pending.items() if k not in ("frame", "label", "version")},
    )
    st.session_state["data_fixed"] = True


def validation_report(dtype: str, dataset: Dataset):
    pending = st.session_state[PENDING]
    frame: pd.DataFrame = pending["frame"]
    schema = attempt(lambda: reads.dataset_schema(dataset.arn), "Reading the schema")
    if schema is None:
        return None
    report = validate(frame, schema, dtype)
    st.markdown(f"**{md(pending['label'])}**: {len(frame):,} rows, columns {md(', '.join(map(str, frame.columns)))}")
    if st.session_state.pop("data_fixed", False):
        st.success("Timestamps converted to Unix seconds.", icon=":material/check_circle:")
    if report.ok and not report.warnings:
        st.success(f"The rows fit the {TITLES[dtype]} schema.", icon=":material/check_circle:")
    elif report.ok:
        st.info("Nothing blocks the import; read the warnings below.", icon=":material/info:")
    else:
        st.error(
            f"{len(report.errors)} problem{'s block' if len(report.errors) > 1 else ' blocks'} the import; "
            "nothing has been uploaded.",
            icon=":material/block:",
        )
    show = {"error": st.error, "warning": st.warning, "info": st.info}
    for finding in report.findings:
        show[finding.severity](md(finding.message))
        if finding.sample is not None and not finding.sample.empty:
            st.dataframe(finding.sample, height=min(220, 38 + 35 * len(finding.sample)))
    if any(
        f.code.startswith("timestamp_") or (f.code == "wrong_type" and "TIMESTAMP" in (f.column or ""))
        for f in report.findings
    ):
        st.button(
            "Convert timestamps to Unix seconds",
            on_click=_fix_timestamps,
            type="primary",
            icon=":material/auto_fix_high:",
        )
    if report.ok:
        id_warnings(dtype, dataset, frame, pending["version"])
    with st.expander("First rows"):
        st.dataframe(frame.head(20), hide_index=True)
    return report


def id_warnings(dtype: str, dataset: Dataset, frame: pd.DataFrame, version: int) -> None:
    """Ids the shop does not know: a warning with the offending rows (the import is not blocked: new users
    and items are normal, a file full of them rarely is)."""
    key = (dataset.arn, version)
    cached = st.session_state.get(ID_CHECK)
    if cached is None or cached[0] != key:
        def check() -> import_safety.IdCheck:
            held = reads.dataset_contents(dataset.arn, dtype)
            return import_safety.check_ids(context.clients().personalize, group_arn, dtype, frame, held)

        checked = attempt(check, "Checking the ids")
        if checked is None:
            return
        cached = (key, checked)
        st.session_state[ID_CHECK] = cached
    result: import_safety.IdCheck = cached[1]
    for finding in result.findings:
        st.warning(md(finding.message), icon=":material/person_search:")
        st.dataframe(finding.rows, height=min(220, 38 + 35 * len(finding.rows)))
    for note in result.notes:
        st.caption(md(note))


def _launch_import(dataset: Dataset, mode: str, bucket: str | None, prefix: str | None, role: str | None) -> None:
    pending = st.session_state[PENDING]
    launched = run_action(
        "import data",
        {"dataset": dataset.arn, "mode": mode, "rows": len(pending["frame"]), "source": pending["label"]},
        lambda: imports.stage_and_import(
            context.clients(), dataset.arn, pending["frame"], mode, bucket, prefix or "personalize/", role
        ),
    )
    if launched is None:
        return
    if pending.get("source") and pending.get("watermark") is not None:
        export = incremental.Export(pending["frame"], pending["watermark"], pending.get("watermark_ids"))
        attempt(lambda: incremental.record_import(pending["source"], launched.job_arn, export,
                                                  launched.staged.uri), "Recording the export")
    # The file is done with: no second click can import it again, and the uploader starts empty.
    st.session_state.pop(PENDING, None)
    st.session_state[UPLOAD_GENERATION] = st.session_state.get(UPLOAD_GENERATION, 0) + 1
    st.session_state[LAUNCHED] = (f"Import job **{md(launched.job_name)}** ({mode}) started from "
                                  f"`{launched.staged.uri}`; follow it below.")
    reads.dataset_contents.clear()
    st.rerun()


def import_controls(dataset: Dataset, dtype: str, report) -> None:
    contents = attempt(lambda: reads.dataset_contents(dataset.arn, dtype), "Reading what the dataset holds")
    # A dataset that already holds data imports INCREMENTAL unless FULL is chosen on purpose.
    default = import_safety.default_mode(contents) if contents else "FULL"
    mode = st.radio(
        "Import mode",
        imports.IMPORT_MODES,
        index=imports.IMPORT_MODES.index(default),
        horizontal=True,
        key=f"data_mode_{dataset.arn}",
        help="FULL replaces the dataset's data; INCREMENTAL adds to it (items/users with the same id are replaced).",
    )
    bucket = prefix = role = None
    if not info.is_local:
        a, b, c = st.columns(3)
        bucket = a.text_input("S3 bucket", key="data_bucket")
        prefix = b.text_input("Prefix", value="personalize/", key="data_prefix")
        role = c.text_input("Role ARN Personalize assumes", key="data_role")
    else:
        st.caption("Local mode: the file is staged in the engine's file store and imported from a file:// URI.")
    blocked = report is None or not report.ok
    rows = len(st.session_state[PENDING]["frame"])
    # Unknown contents (the read failed) are treated as data that a FULL import would destroy.
    replaces = import_safety.replacement_warning(contents or import_safety.DatasetContents(True, None), rows)
    if st.button("Stage and import", type="primary", disabled=blocked, icon=":material/cloud_upload:"):
        if mode == "FULL" and replaces:
            request_confirmation(FULL_IMPORT)
        else:
            _launch_import(dataset, mode, bucket, prefix, role)
    elif blocked:
        st.caption("Fix the problems above first: nothing is uploaded while the validation finds errors.")
    if mode == "FULL" and replaces and confirmation(FULL_IMPORT, replaces, icon=":material/delete_forever:"):
        _launch_import(dataset, mode, bucket, prefix, role)


@st.fragment(run_every="3s")
def live_import_jobs(group_arn: str) -> None:
    jobs = attempt(
        lambda: imports.list_import_jobs(context.clients().personalize, group_arn, limit=20), "Listing import jobs"
    )
    if jobs is None:
        return
    # The watermark moves once the import of an export is ACTIVE; a failed one moves nothing.
    attempt(lambda: incremental.settle_ended(jobs), "Recording the export")
    if not jobs:
        st.caption("No import jobs yet.")
        return
    running = [j for j in jobs if j.running]
    if running:
        st.info(
            f"{len(running)} import{'s' if len(running) > 1 else ''} running; this list refreshes itself.",
            icon=":material/hourglass_top:",
        )
    latest = jobs[0]
    if latest.failed:
        st.error(f"Import **{md(latest.job_name)}** failed: {md(latest.failure_sentence)}", icon=":material/error:")
    st.dataframe(imports.jobs_table(jobs), hide_index=True)


# ----------------------------------------------------------------------------- the page

info = context.backend_info()
st.title("Data & imports")
group_arn = context.dataset_group_arn()
with st.expander("Create a dataset group", expanded=not group_arn, icon=":material/create_new_folder:"):
    create_group_form()
if not group_arn:
    st.info("Create a dataset group to start (or let the sidebar create the demo shop).", icon=":material/info:")
    st.stop()

datasets = attempt(lambda: reads.datasets(group_arn), "Reading the datasets") or {}
group_name = arn_name(group_arn)
with st.expander("Datasets and schemas", expanded=not datasets, icon=":material/dataset:"):
    if datasets:
        st.dataframe(
            pd.DataFrame(
                [{"type": dataset_type_title(t), "name": d.name, "status": d.status,
                  "created (UTC)": d.created, "holds": dataset_type_description(t)} for t, d in datasets.items()]
            ),
            hide_index=True,
        )
    create_dataset_form(group_arn, group_name, datasets)
if not datasets:
    st.info("Create the Interactions dataset first (above), then bring data in.", icon=":material/info:")
    st.stop()
# Only the types this dashboard can validate a file against; others (Next-Best-Action's) are listed above.
importable = [t for t in datasets if t in DATASET_TYPES]
if not importable:
    st.info("This dataset group holds no Interactions, Items or Users dataset, the types this page imports "
            "into; create one above.", icon=":material/info:")
    st.stop()

st.subheader("1. Choose the data")
target = st.selectbox(
    "Import into",
    importable,
    format_func=lambda t: f"{TITLES.get(t, t)} ({datasets[t].name})",
    key="data_target",
)
source = st.segmented_control(
    "Source", ["Upload a file", "MongoDB", "Demo generator"], default="Upload a file", key="data_source"
)
if source == "MongoDB":
    mongo_source()
elif source == "Demo generator":
    demo_source(target)
else:
    upload_source()

if PENDING in st.session_state:
    st.subheader("2. Validation report")
    report = validation_report(target, datasets[target])
    st.subheader("3. Stage and import")
    import_controls(datasets[target], target, report)

st.subheader("Import jobs")
if launched_text := st.session_state.pop(LAUNCHED, None):
    st.success(launched_text, icon=":material/rocket_launch:")
live_import_jobs(group_arn)
