"""SendSmsOperator with recipients from a file, and sharded: against the sandbox, outside a DAG run."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_tencent_sms.operators.sms import SendSmsOperator
from airflow_provider_tencent_sms.shards import shard_of
from airflow_provider_tencent_sms.task_state import InMemoryTaskState
from tests.helpers import use_connection
from tests.operator.test_marketing_window import numbers, once_each


@pytest.fixture
def sandbox(tencent_sms_sandbox, monkeypatch):
    use_connection(monkeypatch, tencent_sms_sandbox)
    return tencent_sms_sandbox


def send(**kwargs: Any) -> SendSmsOperator:
    options: dict[str, Any] = {"task_id": "send", "template_id": "1002"}
    options.update(kwargs)
    return SendSmsOperator(**options)


def run(operator: SendSmsOperator, store: InMemoryTaskState | None = None) -> dict[str, Any]:
    return operator.execute({"task_state_store": store or InMemoryTaskState()})  # type: ignore[arg-type]


def write_csv(path: Path, rows: list[str], header: str = "phone_number") -> Path:
    path.write_text(header + "\n" + "".join(f"{row}\n" for row in rows))
    return path


def test_a_csv_file_is_sent_once_to_each_number(sandbox, tmp_path):
    path = write_csv(tmp_path / "list.csv", [*numbers(450), *numbers(10)])
    summary = run(send(recipients_uri=str(path), template_params=["Shop", "Sale"]))
    assert (summary["recipients"], summary["sent"], summary["duplicates"], summary["requests"]) == (
        450,
        450,
        10,
        3,
    )
    assert set(once_each(sandbox)) == set(numbers(450))


def test_personalised_json_lines_from_a_gzipped_file_uri(sandbox, tmp_path):
    path = tmp_path / "codes.jsonl.gz"
    rows = [{"phone_number": n, "who": f"user {i % 2}", "what": "ok"} for i, n in enumerate(numbers(4))]
    path.write_bytes(gzip.compress("".join(json.dumps(row) + "\n" for row in rows).encode()))
    summary = run(send(recipients_uri=path.as_uri(), param_columns=["who", "what"]))
    assert summary["sent"] == 4 and summary["requests"] == 2
    texts = {m["phone_number"]: m["text"] for m in sandbox.messages}
    assert texts == {n: f"【Airflow】[user {i % 2}] ok" for i, n in enumerate(numbers(4))}


def test_exactly_one_source_of_recipients(sandbox, tmp_path):
    path = write_csv(tmp_path / "list.csv", numbers(1))
    with pytest.raises(AirflowFailException, match="exactly one of phone_numbers"):
        run(send(recipients_uri=str(path), phone_numbers=numbers(1), template_params=["a", "b"]))
    with pytest.raises(AirflowFailException, match="param_columns cannot be combined with template_params"):
        run(send(recipients_uri=str(path), param_columns=["x"], template_params=["a", "b"]))
    assert sandbox.requests == []


def test_bad_rows_fail_by_row_masked_and_nothing_is_sent(sandbox, tmp_path):
    path = write_csv(
        tmp_path / "list.csv", ["A,+8613800138000", "B,1380013800", "C"], header="name,phone_number"
    )
    with pytest.raises(AirflowFailException) as failure:
        run(send(recipients_uri=str(path), template_params=["a", "b"]))
    message = str(failure.value)
    assert "2 invalid rows" in message and "row 3: 13****3800" in message
    assert "row 4: (has 1 fields where the header needs 2)" in message
    assert "1380013800" not in message
    assert sandbox.requests == []
    summary = run(send(recipients_uri=str(path), template_params=["a", "b"], on_invalid_number="skip"))
    assert summary["sent"] == 1 and summary["invalid"] == 2
    assert summary["invalid_entries"][0] == {"position": 3, "entry": "13****3800"}


def test_a_file_that_changes_between_tries_is_caught_by_the_plan_check(sandbox, tmp_path):
    path = write_csv(tmp_path / "list.csv", numbers(3))
    store = InMemoryTaskState()
    run(send(recipients_uri=str(path), template_params=["a", "b"]), store)
    write_csv(path, numbers(4))
    with pytest.raises(AirflowFailException, match="different list of recipients"):
        run(send(recipients_uri=str(path), template_params=["a", "b"]), store)
    assert len(once_each(sandbox)) == 3


def test_a_missing_file_is_left_to_a_retry(sandbox, tmp_path):
    with pytest.raises(AirflowException, match="Could not read the recipients") as failure:
        run(send(recipients_uri=str(tmp_path / "not-yet.csv"), template_params=["a", "b"]))
    assert not isinstance(failure.value, AirflowFailException)


def test_an_unknown_format_fails_with_the_fix(sandbox, tmp_path):
    path = write_csv(tmp_path / "list.dat", numbers(1))
    with pytest.raises(AirflowFailException, match="recipients_format"):
        run(send(recipients_uri=str(path), template_params=["a", "b"]))
    assert (
        run(send(recipients_uri=str(path), recipients_format="csv", template_params=["a", "b"]))["sent"] == 1
    )


def test_shards_of_a_list_send_everyone_once_each_shard_its_own(sandbox):
    recipients = numbers(900)
    sent = []
    for index in range(3):
        summary = run(send(phone_numbers=recipients, template_params=["a", "b"], shards=3, shard=index))
        mine = [n for n in recipients if shard_of(n, 3) == index]
        assert summary["recipients"] == summary["sent"] == len(mine)
        sent += mine
    assert sorted(once_each(sandbox)) == sorted(recipients) == sorted(sent)


def test_the_account_rate_is_divided_among_the_shards(sandbox):
    # 40 requests/s for the account and 4 shards: this shard starts a request at most every 0.1 s.
    run(
        send(
            phone_numbers=numbers(1000),
            template_params=["a", "b"],
            shards=4,
            shard=0,
            max_requests_per_second=40,
        )
    )
    starts = [r.monotonic for r in sandbox.requests if r.action == "SendSms"]
    assert len(starts) >= 2
    assert min(b - a for a, b in pairwise(starts)) >= 0.09


def test_a_task_scoped_rate_is_not_divided(sandbox):
    operator = send(
        phone_numbers=numbers(1),
        template_params=["a", "b"],
        shards=4,
        shard=0,
        rate_limit_scope="task",
        max_requests_per_second=40,
    )
    assert operator._rate() == 40
    assert send(phone_numbers=numbers(1), shards=4, shard=0, max_requests_per_second=40)._rate() == 10


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"shards": 4}, r"shard= for each of the 4 shards"),
        ({"shards": 4, "shard": 4}, "between 0 and shards - 1 = 3"),
        ({"shards": 0, "shard": 0}, "at least 1"),
        ({"rate_limit_scope": "dag"}, "rate_limit_scope must be 'account' or 'task'"),
        ({"recipients_format": "xlsx"}, "recipients_format must be one of"),
    ],
)
def test_wrong_settings_fail_when_the_dag_is_parsed(kwargs, error):
    with pytest.raises((ValueError, TypeError), match=error):
        send(phone_numbers=numbers(1), **kwargs)


def test_sharded_send_maps_one_task_instance_per_shard():
    from airflow.sdk import DAG

    from airflow_provider_tencent_sms.operators.sms import sharded_send

    with DAG("sharded", schedule=None):
        mapped = sharded_send("send", shards=3, phone_numbers=numbers(10), template_id="1002")
    assert mapped.task_id == "send"
    assert mapped.partial_kwargs["shards"] == 3
    assert mapped.expand_input.value == {"shard": [0, 1, 2]}


def test_a_shard_with_nobody_in_it_succeeds_without_sending(sandbox):
    only = numbers(1)
    empty = next(index for index in range(4) if shard_of(only[0], 4) != index)
    summary = run(send(phone_numbers=only, template_params=["a", "b"], shards=4, shard=empty))
    assert (summary["recipients"], summary["sent"], summary["requests"]) == (0, 0, 0)
    assert sandbox.requests == []
