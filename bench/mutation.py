"""Mutation testing of the core modules with mutmut: how many small, realistic bugs the tests catch.

Run: python -m bench.mutation --list
     python -m bench.mutation --module validation [--module filters ...] [--budget 900] [--max-children 1]
     python -m bench.mutation --all

Not part of the test suite (it runs each module's tests once per mutant). Each module is mutated alone,
against only the tests that cover it, in a copy of the repository under a temporary directory, so the
working tree never holds mutmut's `mutants/` folder and several runs never share one. A module's run
is bounded by `--budget` seconds; mutants not reached by then are reported as not checked.

Prints, per module: mutants, killed (a test failed, or the mutant timed out), survived, no tests,
not checked, and the kill rate over the mutants that were checked. `--survivors` lists the survivors
with their diffs (`mutmut show`), to kill with a new test or to list as equivalent in the README.

mutmut records which test reaches which function in the test process itself: engine code reached only
over HTTP (the server runs in its own process) counts as "no tests" here, so the engine modules are
measured through the tests that call their domain functions directly.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("services", "engine", "ui", "pages", "tests", "app.py", "pyproject.toml", "dags")
KILLED = {"killed", "timeout", "segfault", "caught by type check"}


@dataclass(frozen=True)
class Target:
    source: str
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()  # slow tests whose checks smaller tests already make


TARGETS: dict[str, Target] = {
    "campaign_health": Target("services/models/campaign_health.py", (
        "tests/services/test_planted_bugs.py", "tests/services/test_mutation_gaps.py",
        "tests/services/test_campaign_health_answers.py", "tests/services/test_campaigns.py")),
    "resources": Target("services/core/resources.py", (
        "tests/services/test_resources_answers.py", "tests/services/test_resources.py")),
    # Only the Stubber-answered tests: each engine test of test_solutions.py starts an engine (5-6 s) in
    # every mutant's run that reaches it, which kept the run from reaching all mutants in ten minutes.
    "solutions": Target("services/models/solutions.py", ("tests/services/test_solutions_answers.py",)),
    "retrain": Target("services/pipeline/retrain.py", (
        "tests/services/test_retrain_steps.py", "tests/services/test_pipeline.py",
        "tests/services/test_planted_bugs.py")),
    "duplication": Target("services/recommendations/duplication.py", (
        "tests/services/test_duplication.py", "tests/services/test_mutation_gaps.py",
        "tests/services/test_duplication_report_details.py")),
    "list_metrics": Target("services/recommendations/list_metrics.py", (
        "tests/services/test_list_metrics_inputs.py", "tests/services/test_duplication.py",
        "tests/services/test_duplication_report_details.py")),
    "validation": Target("services/data/validation.py", (
        "tests/services/test_validation_findings.py", "tests/services/test_validation.py",
        "tests/services/test_planted_bugs.py::test_a_repeated_item_id_with_"
        "different_columns_is_flagged_with_its_rows", "tests/services/test_planted_bugs.py::test_a_repeated_user_"
        "id_is_flagged_and_blank_ids_are_not_duplicates"),
        deselect=("tests/services/test_validation.py::test_one_million_rows_find_planted_problems",)),
    "saved_sources": Target("services/data/sources/saved.py", (
        "tests/services/test_saved_source_state.py", "tests/services/test_sources_files.py",
        "tests/services/test_source_secrets.py", "tests/services/test_incremental.py")),
    "incremental": Target("services/data/sources/incremental.py", (
        "tests/services/test_incremental_protocol.py", "tests/services/test_incremental.py")),
    "access": Target("services/core/access.py", (
        "tests/services/test_access.py", "tests/services/test_mutation_gaps.py")),
    "actions": Target("ui/actions.py", ("tests/pages/test_actions_flow.py", "tests/pages/test_viewer_forms.py")),
    "engine_metrics": Target("engine/metrics.py", (
        "tests/engine/test_metrics.py", "tests/engine/test_metrics_unit.py",
        "tests/engine/test_metrics_recency_unit.py",
        "tests/engine/test_recency.py::test_the_solution_metrics_score_recency_weighted_rows",
        "tests/engine/test_recency.py::test_recency_ranks_and_matrix_keep_each_items_newest_event",
        "tests/engine/test_training_speed.py::test_bounded_top_k_equals_top_k_on_distinct_scores",
        "tests/engine/test_training_speed.py::test_bounded_top_k_with_ties_and_short_catalogues_keeps_the_same_"
        "scores"),
        deselect=("tests/engine/test_metrics.py::test_evaluate_returns_aws_keys_and_ranks_recipes",)),
    "engine_filters": Target("engine/filters.py", (
        "tests/engine/test_filters.py", "tests/engine/test_planted_bugs.py", "tests/engine/test_mutation_gaps.py",
        "tests/engine/test_filter_eval_unit.py", "tests/engine/test_filter_messages_unit.py")),
    "engine_runtime": Target("engine/runtime.py", (
        "tests/engine/test_runtime_unit.py", "tests/engine/test_runtime_serving_unit.py",
        "tests/engine/test_runtime_recency_unit.py")),
    # The bound shared by serving's top-n and the metrics' top-k: the tests that call it directly.
    "engine_topk": Target("engine/topk.py", (
        "tests/engine/test_serving_fold_in.py::test_group_bound_is_a_lower_bound_on_each_rows_kth_best_reached_"
        "by_k_items", "tests/engine/test_runtime_serving_unit.py",
        "tests/engine/test_training_speed.py::test_bounded_top_k_equals_top_k_on_distinct_scores",
        "tests/engine/test_training_speed.py::test_bounded_top_k_with_ties_and_short_catalogues_keeps_the_same_"
        "scores", "tests/engine/test_serving_shortcut.py::test_top_n_picks_what_a_full_partition_picks",
        "tests/engine/test_runtime_unit.py", "tests/engine/test_topk_unit.py")),
    "engine_importer": Target(
        "engine/importer.py", ("tests/engine/test_importer_unit.py", "tests/engine/test_importer_edges_unit.py")),
    "engine_lifecycle": Target("engine/resources/jobs.py", ("tests/engine/test_recovery_unit.py",)),
}


def _copy_repo(into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "mutants")
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, into / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, into / name)


def _config(target: Target, max_children: int) -> str:
    def listed(values: tuple[str, ...] | list[str]) -> str:
        return "".join(f"    {v}\n" for v in values)

    pytest_args = ["-p", "no:cacheprovider", "-q", "-x"]
    for test in target.deselect:
        pytest_args += ["--deselect", test]
    return (
        "[mutmut]\n"
        f"source_paths =\n{listed(['services', 'engine', 'ui'])}"
        f"only_mutate =\n{listed([target.source])}"
        f"pytest_add_cli_args_test_selection =\n{listed(target.tests)}"
        f"pytest_add_cli_args =\n{listed(pytest_args)}"
        f"also_copy =\n{listed(['tests', 'pages', 'app.py', 'dags'])}"
        f"max_children = {max_children}\n"
    )


def _results(workdir: Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=workdir,
                         capture_output=True, text=True, check=False).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            statuses[name] = status
    return statuses


def run_module(name: str, budget: float, max_children: int, survivors: bool, keep: Path | None) -> dict:
    target = TARGETS[name]
    workdir = Path(tempfile.mkdtemp(prefix=f"mutation-{name}-")) if keep is None else keep / name
    workdir.mkdir(parents=True, exist_ok=True)
    _copy_repo(workdir)
    # pyproject's [tool.mutmut] would win over setup.cfg; this copy's pyproject holds only ruff/pytest.
    (workdir / "setup.cfg").write_text(_config(target, max_children))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)],
                            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # mutmut, its forked test runs and the engines they started
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
    seconds = time.monotonic() - started
    statuses = _results(workdir)
    counts = Counter(statuses.values())
    killed = sum(counts[s] for s in KILLED)
    checked = killed + counts["survived"]
    row = {"module": name, "source": target.source, "mutants": len(statuses), "killed": killed,
           "survived": counts["survived"], "no tests": counts["no tests"], "not checked": counts["not checked"],
           "other": sum(v for k, v in counts.items() if k not in KILLED | {"survived", "no tests", "not checked"}),
           "kill rate": (killed / checked) if checked else float("nan"), "seconds": round(seconds)}
    if not statuses:
        row["error"] = (err or "").strip()[-2000:]
    if survivors:
        for mutant, status in sorted(statuses.items()):
            if status == "survived":
                diff = subprocess.run([sys.executable, "-m", "mutmut", "show", mutant], cwd=workdir,
                                      capture_output=True, text=True, check=False).stdout
                print(f"--- survived: {mutant}\n{diff}")
    if keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=sorted(TARGETS), help="repeatable")
    parser.add_argument("--all", action="store_true", help="every module, one after the other")
    parser.add_argument("--list", action="store_true", help="the modules and the tests each is run against")
    parser.add_argument("--budget", type=float, default=900, help="seconds per module (default 900)")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutants (default 1: shared cores)")
    parser.add_argument("--survivors", action="store_true", help="print each surviving mutant's diff")
    parser.add_argument("--keep", type=Path, help="keep each module's work dir under this folder")
    args = parser.parse_args(argv)
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name:16} {target.source}\n{'':16} against {', '.join(target.tests)}")
        return 0
    names = sorted(TARGETS) if args.all else args.module
    if not names:
        parser.error("name a --module, or --all, or --list")
    rows = []
    for name in names:
        row = run_module(name, args.budget, args.max_children, args.survivors, args.keep)
        rows.append(row)
        rate = f"{row['kill rate']:.1%}" if row["kill rate"] == row["kill rate"] else "n/a"
        print(f"{name:16} mutants {row['mutants']:4}  killed {row['killed']:4}  survived {row['survived']:3}  "
              f"no tests {row['no tests']:3}  not checked {row['not checked']:3}  kill rate {rate}  "
              f"({row['seconds']} s)", flush=True)
        if "error" in row:
            print(f"  mutmut produced no results:\n{row['error']}", file=sys.stderr)
    killed = sum(r["killed"] for r in rows)
    checked = killed + sum(r["survived"] for r in rows)
    if len(rows) > 1 and checked:
        print(f"{'total':16} killed {killed} of {checked} checked mutants: {killed / checked:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
