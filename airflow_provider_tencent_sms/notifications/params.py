"""Pure functions over an alert's rendered template parameters: mistakes, URLs and length."""

from __future__ import annotations

import re

ELLIPSIS = "…"

#: What a parameter whose rendering failed is sent as: the alert still goes out, visibly incomplete.
UNRENDERED = "?"

#: Top-level domains a host name is recognised by when no scheme says it is one (Tencent does not publish
#: its rule; this covers the common generic domains and the country codes most seen in alerts).
_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|top|xyz|site|online|tech|cloud|store|shop|vip|club|link|"
    "app|dev|io|ai|co|me|cc|tv|ly|cn|hk|tw|mo|sg|jp|kr|uk|de|fr|nl|ru|in|au|ca|us|eu|ch|se|no|es|it|br"
)
#: A URL with a scheme (its host in group ``host``), a ``www.`` name, a host name under one of ``_TLDS``
#: or a dotted IPv4 address. "v1.2", "3.5 kg", "airflow.exceptions" or "report.csv" are not URLs.
_URL = re.compile(
    rf"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^\s/?#'\"<>()\[\]]*)"
    rf"|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)*"
    rf"|\b(?:[a-z0-9-]+\.)+(?:{_TLDS})\b"
    rf"|\b(?:[0-9]{{1,3}}\.){{3}}[0-9]{{1,3}}\b",
    re.IGNORECASE,
)
_PLAIN_SCHEMES = ("http", "https")


def _neutralise(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    if scheme is None:
        return match.group(0).replace(".", "[.]")
    # The host says where the link pointed; "http(s)://" adds nothing but length, other schemes are kept.
    prefix = "" if scheme.lower() in _PLAIN_SCHEMES else f"{scheme}[:]//"
    return prefix + match.group("host").replace(".", "[.]")


def neutralise_urls(text: str) -> str:
    """Rewrite the URLs in ``text`` so that they are no longer links, keeping them readable.

    ``https://x.example.com/a?b`` becomes ``x[.]example[.]com/a?b``, ``s3://bucket/key`` becomes
    ``s3[:]//bucket/key``, ``www.example.org`` becomes ``www[.]example[.]org`` and ``10.0.0.5:8080``
    becomes ``10[.]0[.]0[.]5:8080``. Tencent refuses a whole request whose template parameters contain a URL.
    """
    return _URL.sub(_neutralise, text)


def shorten(value: str, limit: int | None) -> str:
    """Cut ``value`` to ``limit`` characters, the last being an ellipsis, so Tencent does not refuse it."""
    if limit is None or len(value) <= limit:
        return value
    return value[: max(limit - 1, 0)] + ELLIPSIS if limit > 0 else ""
