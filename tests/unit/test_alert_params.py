"""The notifier's pure functions over rendered parameters."""

from __future__ import annotations

import pytest

from airflow_provider_tencent_sms.notifications.params import neutralise_urls, shorten
from airflow_provider_tencent_sms.sandbox import rules
from airflow_provider_tencent_sms.sandbox.errors import ApiError
from airflow_provider_tencent_sms.sandbox.templates import Template, TemplateKind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://x.y/z", "x[.]y/z"),
        (
            "see https://api.example.com:8443/v1/orders?id=3 now",
            "see api[.]example[.]com:8443/v1/orders?id=3 now",
        ),
        ("HTTP://Example.COM", "Example[.]COM"),
        ("s3://my.bucket/key.csv", "s3[:]//my[.]bucket/key.csv"),
        ("open www.example.org/help", "open www[.]example[.]org/help"),
        (
            "HTTPSConnectionPool(host='sms.tencentcloudapi.com', port=443)",
            "HTTPSConnectionPool(host='sms[.]tencentcloudapi[.]com', port=443)",
        ),
        ("connect to 10.0.0.5:5432 refused", "connect to 10[.]0[.]0[.]5:5432 refused"),
        ("https://a.b/redirect?to=evil.com", "a[.]b/redirect?to=evil[.]com"),
        ("盘满了 disk.cn 请处理", "盘满了 disk[.]cn 请处理"),
    ],
)
def test_urls_are_neutralised(text, expected):
    assert neutralise_urls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3 failed",
        "3.5 kg",
        "airflow.exceptions.AirflowException: boom",
        "report.csv not found",
        "ValueError: disk full",
        "a.community",
        "",
    ],
)
def test_text_without_urls_is_unchanged(text):
    assert neutralise_urls(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "failed: https://grafana.example.com/d/abc?orgId=1",
        "see www.example.org",
        "HTTPSConnectionPool(host='sms.tencentcloudapi.com', port=443): Max retries exceeded",
        "upload to s3://bucket.example.com/key failed",
    ],
)
def test_neutralised_text_passes_the_sandboxs_url_rule(text):
    template = Template(id="1002", kind=TemplateKind.NOTIFICATION, content="{1}")
    with pytest.raises(ApiError, match="ProhibitedUseUrlInTemplateParameter"):
        rules.check_template_params(template, [text], None)
    rules.check_template_params(template, [neutralise_urls(text)], None)


def test_shorten_after_neutralising_keeps_the_limit():
    assert shorten(neutralise_urls("https://a.example.com/x"), 12) == "a[.]example…"
