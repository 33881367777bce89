"""The ``SessionContext`` each SendSms request carries, and telling ours from anyone else's.

Tencent echoes a request's ``SessionContext`` in every status and every delivery receipt. The operator puts
a short tag there that names the task instance and the batch, so that a receipt found by phone number can be
traced back to the request it answers::

    tsms1:<12 hex: task instance>:<batch index>[|<the user's own session_context, verbatim>]

The task-instance part is a hash of (dag id, run id, task id, map index): ids of any length give a context
of at most 27 bytes, which leaves :data:`MAX_USER_BYTES` for the user's part. ``TencentSmsNotifier`` puts a
random 12-hex tag in the same place, a new one for every alert, and the request's index as the batch.
Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Tencent accepts a SessionContext under 512 bytes (UTF-8).
MAX_CONTEXT_BYTES = 511
#: "tsms1:" + 12 hex + ":" + up to 7 digits (10 million batches, 2 billion recipients) + "|".
_OURS_MAX_BYTES = 27
#: What a user's own ``session_context`` may take, whatever the task's ids.
MAX_USER_BYTES = MAX_CONTEXT_BYTES - _OURS_MAX_BYTES
_PREFIX = "tsms1"
_TAG_CHARS = 12
_SEPARATOR = "|"
_OURS = re.compile(rf"{_PREFIX}:([0-9a-f]{{{_TAG_CHARS}}}):([0-9]{{1,7}})(?:\|(.*))?", re.DOTALL)


@dataclass(frozen=True)
class SessionTag:
    """What a context of ours says: which task instance sent it, which batch, and the user's part."""

    task_instance: str
    batch: int
    user: str | None


def task_instance_tag(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """A short, stable name for one task instance (the same in every try and after every deferral)."""
    # A separator that cannot occur in Airflow ids keeps ("a", "bc") and ("ab", "c") apart.
    key = "\x1f".join((dag_id, run_id, task_id, str(map_index)))
    return hashlib.sha256(key.encode()).hexdigest()[:_TAG_CHARS]


def check_user_context(user: str | None) -> None:
    """Raise ``ValueError`` saying how to fix a user's ``session_context`` that cannot fit beside ours."""
    if user is None:
        return
    if not isinstance(user, str):
        raise ValueError(f"session_context must be a string, not {type(user).__name__}")
    size = len(user.encode())
    if size > MAX_USER_BYTES:
        raise ValueError(
            f"session_context is {size} bytes in UTF-8; at most {MAX_USER_BYTES} fit beside the "
            f"{_OURS_MAX_BYTES} bytes that trace each request back to its task (Tencent's limit is under 512). "
            "Shorten it, e.g. to an id your system can look up."
        )


def compose(task_instance: str, batch: int, user: str | None = None) -> str:
    """The SessionContext of one request of batch ``batch`` sent by ``task_instance``."""
    if not 0 <= batch < 10_000_000:
        raise ValueError(f"batch index out of range: {batch}")
    check_user_context(user)
    ours = f"{_PREFIX}:{task_instance}:{batch}"
    return f"{ours}{_SEPARATOR}{user}" if user else ours


def parse(context: str | None) -> SessionTag | None:
    """The tag in a SessionContext written by :func:`compose`; ``None`` for anyone else's (or none)."""
    if not context:
        return None
    match = _OURS.fullmatch(context)
    if match is None:
        return None
    return SessionTag(match.group(1), int(match.group(2)), match.group(3))


def user_part(context: str | None) -> str | None:
    """The user's own context: after our tag, or the whole value when the tag is not ours."""
    tag = parse(context)
    if tag is None:
        return context or None
    return tag.user


def is_from(context: str | None, task_instance: str, batch: int | None = None) -> bool:
    """Whether ``context`` was sent by ``task_instance`` (and, if given, for batch ``batch``)."""
    tag = parse(context)
    return tag is not None and tag.task_instance == task_instance and (batch is None or tag.batch == batch)
