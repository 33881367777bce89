"""Airflow discovers the provider and shows the relabelled connection form for ``tencent_sms``."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from airflow_provider_tencent_sms.get_provider_info import get_provider_info


def test_entry_point_points_at_provider_info():
    (ep,) = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_provider")
    ]
    assert ep.load()()["package-name"] == "airflow-provider-tencent-sms"


@pytest.fixture(scope="module")
def providers_manager():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    manager.initialize_providers_hooks()
    return manager


def test_provider_is_discovered(providers_manager):
    assert "airflow-provider-tencent-sms" in providers_manager.providers
    hook_info = providers_manager.hooks["tencent_sms"]
    assert hook_info.hook_class_name == "airflow_provider_tencent_sms.hooks.sms.TencentSmsHook"
    assert hook_info.connection_id_attribute_name == "tencent_sms_conn_id"
    assert hook_info.hook_name == "Tencent Cloud SMS"


def test_ui_shows_custom_fields(providers_manager):
    widgets = providers_manager.connection_form_widgets
    for name in (
        "region",
        "sms_sdk_app_id",
        "sign_name",
        "api_version",
        "token",
        "language",
        "timeout",
        "ca_bundle",
    ):
        assert f"extra__tencent_sms__{name}" in widgets, name
    token = widgets["extra__tencent_sms__token"]
    assert token.is_sensitive


def test_ui_relabels_standard_fields(providers_manager):
    behaviour = providers_manager.field_behaviours["tencent_sms"]
    assert behaviour["relabeling"] == {"login": "SecretId", "password": "SecretKey", "host": "Endpoint"}
    assert set(behaviour["hidden_fields"]) == {"schema", "port"}
    assert behaviour["placeholders"]["host"] == "sms.tencentcloudapi.com"


def test_hook_methods_for_airflow_3_0_and_3_1_agree_with_declarative_form():
    from airflow_provider_tencent_sms.hooks.sms import TencentSmsHook

    behaviour = TencentSmsHook.get_ui_field_behaviour()
    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert behaviour["relabeling"] == declared["relabeling"]
    assert behaviour["hidden_fields"] == declared["hidden-fields"]
