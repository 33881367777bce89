"""Apache Airflow provider for Tencent Cloud SMS."""

from __future__ import annotations

#: The one place the version is written: pyproject.toml reads it (setuptools dynamic version), so the
#: package's metadata, ``get_provider_info()`` and the hook's ``X-TC-RequestClient`` header all agree.
__version__ = "0.2.0.dev0"
