"""DAGs the operator tests run with ``dag.test()`` against the sandbox, one per scenario.

They live in the tests' ``dags_folder`` because ``dag.test()`` serialises the DAG from its file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator

START = datetime(2026, 1, 1)
NO_WAIT = timedelta(seconds=0)

#: Four ways of writing one Mainland number, another Mainland number twice, and two global numbers.
MIXED_NUMBERS = [
    "13800138000",
    "0086 138-0013-8000",
    "+86 138 0013 8000",
    "+8613800138000",
    "+8613900139000",
    "139 0013 9000",
    "+1 650-253-0000",
    "+44 7911 123456",
]


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"+86138{i:08d}" for i in range(start, start + count)]


DAGS: dict[str, DAG] = {}


def _register(dag: DAG) -> DAG:
    DAGS[dag.dag_id] = dag
    return dag


for conn_id, suffix in (("tencent_sms_default", ""), ("tencent_sms_v2019", "_2019")):
    with _register(DAG(f"sms_from_xcom{suffix}", schedule=None, start_date=START, catchup=False)):

        @task
        def recipients() -> list[str]:
            return MIXED_NUMBERS

        @task
        def metrics() -> dict[str, object]:
            return {"title": "Orders", "count": 42}

        metrics() >> SendSmsOperator(
            task_id="send",
            tencent_sms_conn_id=conn_id,
            phone_numbers=recipients(),
            template_id="1002",
            template_params=[
                "{{ ti.xcom_pull(task_ids='metrics')['title'] }}",
                "{{ ti.xcom_pull(task_ids='metrics')['count'] }}",
            ],
        )

for native in (False, True):
    with _register(
        DAG(
            f"sms_from_jinja_{'native' if native else 'string'}",
            schedule=None,
            start_date=START,
            catchup=False,
            render_template_as_native_obj=native,
        )
    ):

        @task
        def listed() -> list[str]:
            return MIXED_NUMBERS

        @task
        def params() -> list[object]:
            return ["Stock", 7]

        [listed(), params()] >> SendSmsOperator(
            task_id="send",
            phone_numbers="{{ ti.xcom_pull(task_ids='listed') }}",
            template_id="1002",
            template_params="{{ ti.xcom_pull(task_ids='params') }}",
        )

with _register(DAG("sms_personalised", schedule=None, start_date=START, catchup=False)):

    @task
    def rows() -> list[dict[str, object]]:
        return [
            {"phone_number": "13800138000", "template_params": ["Ann", 10]},
            {"phone_number": "+8613800138001", "template_params": ["Bob", 20]},
            {"phone_number": "+8613800138002", "template_params": ["Ann", 10]},
            {"phone_number": "0086 138 0013 8000", "template_params": ["Ann", 10]},
        ]

    SendSmsOperator(task_id="send", recipients=rows(), template_id="1002")


def single_send(dag_id: str, count: int, **overrides: Any) -> None:
    """A DAG whose one task sends a notification to ``count`` numbers, with operator options overridden."""
    options: dict[str, Any] = {
        "phone_numbers": numbers(count),
        "template_id": "1002",
        "template_params": ["ETL", "done"],
        **overrides,
    }
    with _register(DAG(dag_id, schedule=None, start_date=START, catchup=False)):
        SendSmsOperator(task_id="send", **options)


single_send("sms_terminal", 3, template_id="9999", retries=3, retry_delay=NO_WAIT)
single_send(
    "sms_missing_connection", 3, tencent_sms_conn_id="tencent_sms_missing", retries=3, retry_delay=NO_WAIT
)
single_send("sms_transient", 600, max_concurrency=1, request_attempts=1, retries=2, retry_delay=NO_WAIT)
single_send("sms_block_list", 5, retries=2, retry_delay=NO_WAIT)
single_send(
    "sms_outcome_unknown", 600, max_concurrency=1, retries=2, retry_delay=NO_WAIT, on_unknown_outcome="fail"
)
single_send("sms_bulk", 0, phone_numbers=numbers(1500) + numbers(100))  # 100 duplicates
single_send("sms_rate_limited", 3, recipient_retry_delay=timedelta(seconds=1))
single_send("sms_marketing", 3, template_id="1003", template_params=["Sale"], sms_type="marketing")

with _register(DAG("sms_invalid_numbers", schedule=None, start_date=START, catchup=False)):
    for policy in ("fail", "skip"):
        SendSmsOperator(
            task_id=f"send_{policy}",
            phone_numbers=["+8613800138000", "12345", "not a number"],
            template_id="1002",
            template_params=["ETL", "done"],
            on_invalid_number=policy,
        )

with _register(DAG("sms_param_renders_none", schedule=None, start_date=START, catchup=False)):

    @task
    def count_orders() -> int:
        return 42

    # A typo in task_ids: xcom_pull finds nothing and Jinja would render "orders=None".
    count_orders() >> SendSmsOperator(
        task_id="send",
        phone_numbers=numbers(2),
        template_id="1002",
        template_params=["Report", "orders={{ ti.xcom_pull(task_ids='count_ordres') }}"],
        retries=2,
        retry_delay=NO_WAIT,
    )

single_send(
    "sms_param_undefined",
    2,
    template_params=["Report", "{{ params.region }}"],
    retries=2,
    retry_delay=NO_WAIT,
)


class SendSmsOnOldAirflow(SendSmsOperator):
    """The operator as it runs on Airflow 3.0-3.2, whose context has no task state store."""

    def execute(self, context: Any) -> Any:
        return super().execute({k: v for k, v in context.items() if k != "task_state_store"})


for outcome, template_id in (("ok", "1002"), ("refused", "9999")):
    with _register(DAG(f"sms_variable_ledger_{outcome}", schedule=None, start_date=START, catchup=False)):
        SendSmsOnOldAirflow(
            task_id="send", phone_numbers=numbers(2), template_id=template_id, template_params=["ETL", "done"]
        )

with _register(DAG("sms_mapped_param_renders_none", schedule=None, start_date=START, catchup=False)):
    # Mapped tasks render their fields through another path than plain ones.
    SendSmsOperator.partial(
        task_id="send",
        template_id="1002",
        template_params=["Report", "{{ ti.xcom_pull(task_ids='nowhere') }}"],
    ).expand(phone_numbers=[numbers(1), numbers(1, start=5)])

# 4,000 recipients = 20 requests at 10 a second: each try is cut off by its one-second execution_timeout
# mid-send, and the next try goes on where it stopped.
single_send(
    "sms_timeout_mid_send",
    4000,
    max_requests_per_second=10,
    execution_timeout=timedelta(seconds=1),
    retries=5,
    retry_delay=NO_WAIT,
)
