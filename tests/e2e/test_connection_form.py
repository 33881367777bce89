"""The Tencent Cloud SMS connection form in the Airflow 3 UI, in a real browser: fill, test, save, use."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from airflow_provider_tencent_sms.sandbox import Sandbox

from .airflow_api import AirflowApi
from .airflow_ui import ConnectionsPage
from .browser import CHROMIUM, UI_TIMEOUT_MS, chromium
from .conftest import REPO
from .deployment import Deployment

CONN_ID = "tencent_sms_e2e_ui"  # the connection e2e_saved_connection sends through
DAG_ID = "e2e_saved_connection"
RECIPIENT = "+8613600136000"
DOCS_SCREENSHOT = REPO / "docs" / "_static" / "connection-form.png"
# The docs image changes on every run (ports, timing): refresh it only when asked to.
UPDATE_DOCS = os.environ.get("TENCENT_SMS_E2E_UPDATE_DOCS") == "1"

RELABELLED = {"Endpoint": "Host", "SecretId": "Login", "SecretKey": "Password"}
CUSTOM_FIELDS = [
    "Region",
    "SMS SdkAppId",
    "Signature",
    "API version",
    "Session token",
    "Language",
    "Timeout (seconds)",
    "CA bundle",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium chromium-driver`",
    ),
]


@pytest.fixture
def page(artifacts: Path) -> Iterator[Page]:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield page
        finally:
            # The last state of the page is the first thing to look at when the test fails.
            page.screenshot(path=artifacts / "connection-last-page.png")


def test_connection_form_tests_saves_and_sends(
    page: Page, airflow: Deployment, api: AirflowApi, inbox: Sandbox, artifacts: Path
) -> None:
    ui = ConnectionsPage(page, airflow.url)
    ui.send_portless_connections_without_port()
    ui.login(airflow.username, airflow.password)
    ui.open()
    ui.start_adding(CONN_ID, "Tencent Cloud SMS")

    # Standard fields: relabelled for Tencent, and the unused ones hidden.
    for label, generic in RELABELLED.items():
        expect(ui.dialog.get_by_label(label, exact=True)).to_be_visible()
        expect(ui.dialog.get_by_label(generic, exact=True)).to_have_count(0)
    for hidden in ("Port", "Schema"):
        expect(ui.dialog.get_by_label(hidden, exact=True)).to_have_count(0)
    ui.dialog.get_by_label("Endpoint").fill(inbox.url)
    ui.dialog.get_by_label("SecretId").fill(inbox.secret_id)
    ui.dialog.get_by_label("SecretKey").fill(inbox.secret_key)
    page.screenshot(path=artifacts / "connection-form-standard.png", animations="disabled")

    ui.section("Extra Fields")
    for label in CUSTOM_FIELDS:
        expect(ui.field(label)).to_be_visible()
    ui.field("SMS SdkAppId").get_by_role("textbox").fill(inbox.sms_sdk_app_id)
    ui.field("Signature").get_by_role("textbox").fill(str(inbox.sign_name))
    ui.choose("Language", "en-US")
    ui.field("Timeout (seconds)").get_by_role("spinbutton").fill("15")
    expect(ui.field("Region").get_by_role("textbox")).to_have_value("ap-guangzhou")
    expect(ui.field("API version")).to_contain_text("2021-01-11")
    # From the top: the connection type and the first custom fields, for the docs.
    ui.dialog.get_by_role("heading", name="Add Connection").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "connection-form-extra.png", animations="disabled")
    if UPDATE_DOCS:
        shutil.copy(artifacts / "connection-form-extra.png", DOCS_SCREENSHOT)
    assert ui.save().status == 201

    # Stored as the hook reads it: custom fields are plain keys of extra.
    stored = api.get(f"/connections/{CONN_ID}")
    assert (stored["conn_type"], stored["host"], stored["login"]) == (
        "tencent_sms",
        inbox.url,
        inbox.secret_id,
    )
    # Fields left empty (the token, the CA bundle) may be stored as null.
    assert json.loads(stored["extra"]) | {"token": None, "ca_bundle": None} == {
        "region": "ap-guangzhou",
        "sms_sdk_app_id": inbox.sms_sdk_app_id,
        "sign_name": inbox.sign_name,
        "api_version": "2021-01-11",
        "token": None,
        "language": "en-US",
        "timeout": 15,
        "ca_bundle": None,
    }

    verdict = ui.test(CONN_ID)
    assert verdict["status"] is True
    assert inbox.url in verdict["message"] and inbox.secret_id in verdict["message"]
    page.screenshot(path=artifacts / "connection-test-success.png", animations="disabled")

    ui.edit(CONN_ID)
    ui.dialog.get_by_label("SecretKey").fill("not-the-secret-key")
    ui.save()
    verdict = ui.test(CONN_ID)
    assert verdict["status"] is False
    assert "AuthFailure.SignatureFailure" in verdict["message"]
    assert "not-the-secret-key" not in verdict["message"]
    page.screenshot(path=artifacts / "connection-test-failure.png", animations="disabled")

    ui.edit(CONN_ID)
    ui.dialog.get_by_label("SecretKey").fill(inbox.secret_key)
    ui.save()
    assert ui.test(CONN_ID)["status"] is True
    assert not inbox.messages, "testing a connection must not send anything"

    # The saved connection (not the environment's default) carries a DAG's messages.
    api.wait_for_dag(DAG_ID)
    api.unpause(DAG_ID)
    run_id = api.trigger(DAG_ID)
    run = api.wait_for_run(DAG_ID, run_id)
    api.pause(DAG_ID)
    assert run["state"] == "success", api.failure_report(DAG_ID, run_id)
    assert [m["phone_number"] for m in inbox.messages] == [RECIPIENT]
