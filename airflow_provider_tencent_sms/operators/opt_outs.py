"""Collecting opt-outs: unsubscribe replies read from Tencent, kept as a list of numbers never to message.

The list is a text file with one E.164 number per line, which :class:`~.sms.SendSmsOperator` takes through
``exclude=`` (read it with :func:`read_opt_outs`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from ..connection import DEFAULT_CONN_ID
from ..optouts import DEFAULT_KEYWORDS

if TYPE_CHECKING:
    from airflow.sdk import Context

    from ..hooks.sms import TencentSmsHook

#: Where the example DAGs keep the list unless the Airflow Variable ``tencent_sms_opt_out_file`` says.
DEFAULT_OPT_OUT_FILE = str(Path(tempfile.gettempdir()) / "tencent_sms_opt_outs.txt")
DEFAULT_MAX_REPLIES = 10_000


def read_opt_outs(path: str | os.PathLike[str], default_region: str = "CN") -> list[str]:
    """The numbers in an opt-out file, in E.164; an empty list if the file does not exist yet.

    :param path: the file: one number per line (blank lines are ignored).
    :param default_region: the region of numbers written without ``+``.
    :raises ValueError: for a line that is not a phone number, naming the line.
    """
    from ..recipients import to_e164

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    numbers = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        e164 = to_e164(line.strip(), default_region)
        if e164 is None:
            raise ValueError(
                f"{path}, line {line_number}: not a phone number. The opt-out file holds one number per "
                "line; fix or delete that line (nothing was changed)."
            )
        numbers.append(e164)
    return numbers


def _write_opt_outs(path: Path, numbers: Sequence[str]) -> None:
    """Replace the file in one step, so that a reader never sees half a list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write("".join(f"{number}\n" for number in numbers))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def collect_opt_outs(
    hook: TencentSmsHook,
    *,
    path: str | os.PathLike[str] | None = None,
    keywords: Iterable[str] = DEFAULT_KEYWORDS,
    phone_numbers: Iterable[str] | None = None,
    since: datetime | None = None,
    max_replies: int = DEFAULT_MAX_REPLIES,
    default_region: str = "CN",
) -> dict[str, Any]:
    """Read replies, keep those that are an unsubscribe keyword, and merge their numbers into ``path``.

    By default the application's reply queue is read (PullSmsReplyStatus): each reply is handed out
    once, so run one collector per application. With ``phone_numbers``, each number's replies since
    ``since`` are read instead (PullSmsReplyStatusByPhoneNumber), which consumes nothing.

    :param hook: the hook to read replies with.
    :param path: the opt-out file to merge into; None to only return the list.
    :param keywords: the replies that count as opting out (see :mod:`~airflow_provider_tencent_sms.optouts`).
    :param phone_numbers: read these numbers' replies instead of the queue.
    :param since: with ``phone_numbers``: from when (at most 7 days ago, the default).
    :param max_replies: the most replies to take off the queue in one run.
    :param default_region: the region of numbers without ``+``.
    :return: ``opt_outs`` (the whole list, E.164), ``new`` (how many were not in it before),
        ``replies`` (read) and ``opt_out_replies`` (that were opt-outs).
    """
    from ..hooks.receipts import HISTORY_WINDOW
    from ..optouts import Keywords, merge, opt_outs

    words = Keywords.of(keywords)
    target = Path(path) if path is not None else None
    # Read (and so check) the existing list before taking replies off the queue: they are handed out once.
    existing = read_opt_outs(target, default_region) if target is not None else []
    if phone_numbers is None:
        replies = hook.pull_replies(max_replies)
    else:
        begin = since or datetime.now(timezone.utc) - HISTORY_WINDOW + timedelta(minutes=1)
        replies = [r for number in phone_numbers for r in hook.pull_replies_by_phone_number(number, begin)]
    found = opt_outs(((r.phone_number, r.content) for r in replies), words, default_region)
    merged = merge(existing, found.numbers, default_region)
    if target is not None:
        _write_opt_outs(target, merged)
    return {
        "opt_outs": list(merged),
        "new": len(merged) - len(set(existing)),
        "replies": len(replies),
        "opt_out_replies": found.replies,
    }


class CollectOptOutsOperator(BaseOperator):
    """
    Read unsubscribe replies from Tencent Cloud SMS and merge their numbers into an opt-out file.

    Run it daily (Tencent keeps replies for 7 days) and pass the file's numbers to
    ``SendSmsOperator(exclude=...)``. The task's result counts the list, the new numbers and the replies
    read; the numbers themselves stay in the file.

    :param path: the opt-out file: one E.164 number per line, created if missing. (templated)
    :param keywords: replies that count as opting out, compared case- and width-insensitively as the
        whole reply; by default TD, T, N, R, 退订, 取消, 拒收. (templated)
    :param max_replies: the most replies to take off the reply queue per run.
    :param default_region: the region (ISO 3166 code) numbers without ``+`` are read in.
    :param tencent_sms_conn_id: the Airflow connection.
    """

    template_fields: Sequence[str] = ("path", "keywords")
    ui_color = "#e6f4ff"

    def __init__(
        self,
        *,
        path: str,
        keywords: Sequence[str] = DEFAULT_KEYWORDS,
        max_replies: int = DEFAULT_MAX_REPLIES,
        default_region: str = "CN",
        tencent_sms_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.keywords = keywords
        self.max_replies = max_replies
        self.default_region = default_region
        self.tencent_sms_conn_id = tencent_sms_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from ..hooks.sms import TencentSmsHook

        if not self.path:
            raise AirflowFailException("path is required: the opt-out file to write")
        try:
            result = collect_opt_outs(
                TencentSmsHook(self.tencent_sms_conn_id),
                path=self.path,
                keywords=self.keywords,
                max_replies=self.max_replies,
                default_region=self.default_region,
            )
        except (TypeError, ValueError) as exc:
            raise AirflowFailException(str(exc)) from None
        self.log.info(
            "%d replies read, %d of them opt-outs; %d new numbers, %d in %s",
            result["replies"],
            result["opt_out_replies"],
            result["new"],
            len(result["opt_outs"]),
            self.path,
        )
        return {key: value for key, value in result.items() if key != "opt_outs"} | {
            "opt_outs": len(result["opt_outs"]),
            "path": self.path,
        }
