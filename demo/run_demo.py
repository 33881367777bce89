"""``make demo``: run each example DAG end to end with real Airflow against the local sandbox.

Usage: ``python -m demo.run_demo [--show-deferral]``. Airflow lives in ``.demo/airflow_home`` (sqlite) and
logs to ``.demo/airflow.log``; the terminal gets a short report per DAG. Exits 0 when every run ended as
expected, 1 when one did not, 2 when Airflow could not be set up.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .home import (
    AIRFLOW_HOME,
    CONNECTION_VARIABLE,
    DAGS_FOLDER,
    DEMO_DIR,
    REPO,
    airflow_environment,
    migrate_database,
    use_environment,
)
from .quiet import output_to

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from airflow_provider_tencent_sms.sandbox import Sandbox

    from .scenarios import Scenario

LOG = DEMO_DIR / "airflow.log"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--show-deferral",
        action="store_true",
        help="move the clock to just before the next 08:00 Beijing for the marketing campaign even when "
        "its window is open, to show the deferral",
    )
    return parser


def _description(dag: DAG) -> str:
    return (dag.description or (dag.doc_md or "").strip()).split("\n\n")[0].replace("\n", " ")


def _play(out: TextIO, scenario: Scenario, dag: DAG, sandbox: Sandbox, show_deferral: bool) -> bool:
    """Run one scenario and report it; True if it went as expected."""
    from airflow.sdk.listener import get_listener_manager

    from . import report
    from .fast_forward import FastForward
    from .runs import run_dag

    already = len(sandbox.messages)
    fast_forward = FastForward(scenario.send_task or "", always=show_deferral)
    listeners = get_listener_manager()
    if scenario.fast_forward:
        listeners.add_listener(fast_forward)  # type: ignore[no-untyped-call]
    for fault in scenario.faults:
        sandbox.add_fault(**fault)
    try:
        result = run_dag(dag, scenario.conf)
    finally:
        sandbox.clear_faults()
        if scenario.fast_forward:
            listeners.pm.unregister(fast_forward)
        fast_forward.stop()
    messages = sandbox.messages[already:]
    report.run(out, scenario, result, messages)
    notes = scenario.notes(result, messages, fast_forward.jump) if scenario.notes else []
    problems = scenario.check(result, messages, fast_forward.jump)
    report.verdict(out, notes, problems)
    return not problems


def _play_all(out: TextIO, show_deferral: bool) -> int:
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider_tencent_sms.sandbox import Sandbox

    from . import report
    from .scenarios import SCENARIOS

    bag = DagBag(dag_folder=DAGS_FOLDER)
    for path, error in bag.import_errors.items():
        print(f"Import error in {path}:\n{error}", file=out)
    print(f"{len(bag.dags)} DAGs in dags/, {len(bag.import_errors)} import errors.", file=out)
    failed = [scenario.title for scenario in SCENARIOS if scenario.dag_id not in bag.dags]
    with Sandbox() as sandbox:
        # Every Tencent SMS task and notifier uses this connection: the sandbox, not Tencent Cloud.
        os.environ[CONNECTION_VARIABLE] = sandbox.connection_json()
        print(f"Sandbox (Tencent Cloud SMS API) listening on {sandbox.url}.", file=out)
        for index, scenario in enumerate(SCENARIOS, 1):
            if scenario.dag_id not in bag.dags:
                continue
            dag = bag.dags[scenario.dag_id]
            report.header(out, index, len(SCENARIOS), scenario, _description(dag))
            if not _play(out, scenario, dag, sandbox, show_deferral):
                failed.append(scenario.title)
    if failed or bag.import_errors:
        print(f"\nNot as expected: {', '.join(failed) or 'import errors'}. Airflow's log: {LOG}", file=out)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    DEMO_DIR.mkdir(exist_ok=True)
    LOG.write_bytes(b"")
    env = airflow_environment()
    # Before anything imports Airflow, which reads its settings once.
    use_environment(env)
    print("The example DAGs in dags/, run end to end by Airflow (dag.test()) against the local sandbox.")
    print(f"Airflow home: {AIRFLOW_HOME.relative_to(REPO)} (sqlite); its log: {LOG.relative_to(REPO)}")
    print("Preparing the metadata DB (airflow db migrate)...", flush=True)
    with output_to(LOG) as out:
        try:
            migrate_database(env, LOG)
        except RuntimeError as exc:
            print(exc, file=out)
            return 2
        status = _play_all(out, args.show_deferral)
    print(
        f"\nDone in {time.monotonic() - started:.0f} s: {'all as expected' if not status else 'see above'}."
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())
