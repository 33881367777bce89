"""Apache Airflow provider for Tencent Cloud SMS."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("airflow-provider-tencent-sms")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
