"""Sphinx configuration: MyST markdown pages, API reference from docstrings, generated error table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
# autodoc imports the provider, which imports Airflow, which reads (and creates) $AIRFLOW_HOME, by default
# ~/airflow. The docs build must not touch the reader's Airflow: it gets its own, inside the build folder.
os.environ["AIRFLOW_HOME"] = str(DOCS / "_build" / "airflow_home")

project = "airflow-provider-tencent-sms"
author = "airflow-provider-tencent-sms developers"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "error_table",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext"]
html_theme = "furo"
html_title = "Tencent Cloud SMS provider for Apache Airflow"
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Airflow's own classes are documented by Airflow; don't follow cross-references into them.
nitpicky = False
suppress_warnings = ["myst.xref_missing"]
