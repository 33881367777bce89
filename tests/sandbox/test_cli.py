"""The ``tencent-sms-sandbox`` command: banner, flags, shutdown, and no Airflow import."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from .client import MAINLAND, call, common_client, send_params
from .process import SCRIPT, Running


@pytest.fixture
def run() -> Iterator[type[Running]]:
    started: list[Running] = []

    class Tracked(Running):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def test_banner_sends_and_sigterm(run: type[Running]) -> None:
    running = run()
    text = "\n".join(running.banner)
    assert running.url.startswith("http://127.0.0.1:")
    assert "SecretKey:    sandbox-secret-key-00000000000000" in text
    assert running.connection == {
        "conn_type": "tencent_sms",
        "login": "AKIDsandbox00000000000000000000000000",
        "password": "sandbox-secret-key-00000000000000",
        "host": running.url,
        "extra": {"region": "ap-guangzhou", "sms_sdk_app_id": "1400000000", "sign_name": "Airflow"},
    }
    answer = call(common_client(running.endpoint()), "SendSms", send_params())
    assert answer["SendStatusSet"][0]["Code"] == "Ok"
    code, log = running.stop()
    assert code == 0
    assert "SendSms 2021-01-11 Ok (1 numbers)" in log


def test_tls_serves_https_and_prints_the_ca_to_trust(run: type[Running], monkeypatch) -> None:
    from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook

    running = run("--tls", "--quiet")
    assert running.url.startswith("https://127.0.0.1:")
    ca_path = running.connection["extra"]["ca_bundle"]
    assert f"CA bundle:    {ca_path}" in "\n".join(running.banner)
    monkeypatch.setenv("AIRFLOW_CONN_TENCENT_SMS_DEFAULT", json.dumps(running.connection))
    (status,) = TencentSmsHook().send_sms(["+8613800138000"], "1002", ["a", "b"])
    assert status.ok
    assert running.stop()[0] == 0


def test_flags(run: type[Running], tmp_path: Path) -> None:
    templates = tmp_path / "templates.json"
    templates.write_text(
        json.dumps(
            {
                "signatures": ["Ops"],
                "templates": {"42": {"type": "notification", "content": "Job {1} failed"}},
            }
        )
    )
    running = run(
        "--templates",
        str(templates),
        "--param-length-limit",
        "--frequency-limits",
        "--secret-key",
        "my-own-key",
        "--quiet",
    )
    text = "\n".join(running.banner)
    assert "my-own-key" not in text
    assert running.connection["password"] == "<your --secret-key>"
    assert running.connection["extra"]["sign_name"] == "Ops"
    running.connection["password"] = "my-own-key"
    client = common_client(running.endpoint())
    first = call(client, "SendSms", send_params(template_id="42", params=["nightly"], sign_name="Ops"))
    assert first["SendStatusSet"][0]["Code"] == "Ok"
    again = call(client, "SendSms", send_params(template_id="42", params=["nightly"], sign_name="Ops"))
    assert again["SendStatusSet"][0]["Code"] == "LimitExceeded.PhoneNumberThirtySecondLimit"
    with pytest.raises(TencentCloudSDKException, match="TemplateParameterLengthLimit"):
        client.call_json(
            "SendSms", send_params([MAINLAND], template_id="42", params=["x" * 13], sign_name="Ops")
        )
    code, log = running.stop()
    assert code == 0
    assert log == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--templates", "/nonexistent.json"], "cannot read templates file"),
        (["--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--latency-ms", "-5"], "latency_ms"),
    ],
)
def test_bad_options_exit_with_a_message(args: list[str], message: str) -> None:
    result = subprocess.run([str(SCRIPT), "--port", "0", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr


def test_running_the_module_does_not_import_airflow() -> None:
    probe = (
        "import sys\n"
        "from airflow_provider_tencent_sms.sandbox.__main__ import main\n"
        "from airflow_provider_tencent_sms.sandbox import Sandbox\n"
        "with Sandbox():\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"
    help_text = subprocess.run(
        [sys.executable, "-m", "airflow_provider_tencent_sms.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "--latency-ms" in help_text


def test_the_default_port_is_not_airflows_api_server_port() -> None:
    help_text = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=True).stdout
    default = int(re.search(r"\(default: (\d+)\)", help_text.split("--port", 1)[1]).group(1))
    assert default != 8080  # `airflow api-server` and `airflow standalone` listen there


def test_a_port_in_use_names_the_option_to_choose_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(SCRIPT), "--port", str(port)], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
