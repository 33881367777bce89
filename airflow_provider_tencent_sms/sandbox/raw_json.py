"""Pre-serialised JSON fragments, for the few answers too large to build as dicts and dump."""

from __future__ import annotations

import json
from collections.abc import Mapping


class RawJson(str):
    """A string that is already JSON; :func:`dumps_object` puts it in as is."""


def dumps_object(document: Mapping[str, object]) -> str:
    """Serialise a JSON object whose values may be :class:`RawJson` (only at the top level)."""
    members = (
        f"{json.dumps(key)}:{value if isinstance(value, RawJson) else json.dumps(value, ensure_ascii=False)}"
        for key, value in document.items()
    )
    return "{" + ",".join(members) + "}"
