"""``make airflow`` says how to test the connection, since the UI's Test button fails in Airflow 3.3.2."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from demo.home import CONNECTION_ID
from demo.run_airflow import connection_test_note


def test_the_printed_command_tests_the_stored_connection(tencent_sms_sandbox, tmp_path):
    home = tmp_path / "airflow_home"
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "_AIRFLOW"))}
    env = {
        **clean,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    for setup in (
        ["db", "migrate"],
        ["connections", "add", CONNECTION_ID, "--conn-json", tencent_sms_sandbox.connection_json()],
    ):
        subprocess.run([sys.executable, "-m", "airflow", *setup], env=env, check=True, capture_output=True)

    note = connection_test_note(env)
    assert '"Bad Request"' in note
    command = note.splitlines()[-1]
    # The command carries its own settings: it works from a shell with none.
    result = subprocess.run(shlex.split(command), env=clean, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connection success!" in result.stdout
    # It reached the sandbox, with read-only calls only.
    assert "DescribePhoneNumberInfo" in [request.action for request in tencent_sms_sandbox.requests]
    assert tencent_sms_sandbox.messages == []
