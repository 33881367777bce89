"""The SendSms action: validate, answer per number, record what was accepted."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

from .. import segments
from . import phones, rules
from .context import SERIAL_PREFIX, Context
from .params import Params
from .raw_json import RawJson
from .store import Batch

_LIMIT_MESSAGES = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": "This number got a message less than 30 seconds ago.",
    "LimitExceeded.PhoneNumberOneHourLimit": "This number reached its limit of messages per hour.",
    "LimitExceeded.PhoneNumberDailyLimit": "This number reached its limit of messages per day.",
    "LimitExceeded.PhoneNumberSameContentDailyLimit": "This number got the same message too often today.",
}

#: Position in PhoneNumberSet -> (code, message) for numbers that are not sent.
Refusals = dict[int, tuple[str, str]]


def send_sms(
    ctx: Context,
    version: str,
    params: Params,
    request_id: str,
    recipient_codes: Mapping[str, tuple[str, str]],
    fee: int | None = None,
) -> dict[str, object]:
    """Answer a checked SendSms request; ``recipient_codes`` (per-number failures) and ``fee`` (per message)
    come from faults."""
    settings = ctx.settings
    app_id = params.string("app_id")
    ctx.check_app(version, app_id)
    numbers = params.strings("numbers")
    rules.check_number_count(numbers)
    iso_codes = phones.iso_codes(numbers)
    mainland = rules.is_mainland_batch(iso_codes)
    template = rules.find_template(settings.registry, params.string("template_id"), mainland)
    sign_name = params.optional_string("sign_name") or None
    rules.check_signature(settings.registry, sign_name, mainland)
    template_params = params.strings("template_params")
    rules.check_template_params(template, template_params, settings.param_length_limit)
    now = time.time()
    rules.check_send_time(template, now, settings.zone)

    text = segments.message_text(sign_name, template.render(template_params))
    refusals = _refusals(ctx, numbers, iso_codes, recipient_codes, text, now)
    accepted = [
        (number, iso_code)
        for position, (number, iso_code) in enumerate(zip(numbers, iso_codes, strict=True))
        if iso_code is not None and position not in refusals
    ]
    sent_numbers, sent_iso_codes = zip(*accepted, strict=True) if accepted else ((), ())
    first_serial = ctx.serials.reserve(len(accepted))
    batch = Batch(
        request_id=request_id,
        api_version=version,
        app_id=app_id,
        template_id=template.id,
        template_params=tuple(template_params),
        sign_name=sign_name,
        text=text,
        # Billed as Tencent bills: Mainland China by its own rules, elsewhere by GSM-7 / UCS-2.
        fee=segments.segments(text, mainland is not False) if fee is None else fee,
        session_context=params.string("session_context"),
        extend_code=params.optional_string("extend_code"),
        sender_id=params.optional_string("sender_id"),
        timestamp=now,
        phone_numbers=sent_numbers,
        iso_codes=sent_iso_codes,
        serial_nos=tuple([f"{SERIAL_PREFIX}{n}" for n in range(first_serial, first_serial + len(accepted))]),
        receipt_lag=settings.receipt_lag,
        outcomes=ctx.deliveries.outcomes(sent_numbers),
    )
    ctx.store.add(
        batch, attempted=len(numbers), hour=datetime.fromtimestamp(now, settings.zone).strftime("%Y%m%d%H")
    )
    return {"SendStatusSet": _send_status_set(batch, numbers, iso_codes, refusals)}


def _refusals(
    ctx: Context,
    numbers: Sequence[str],
    iso_codes: Sequence[str | None],
    recipient_codes: Mapping[str, tuple[str, str]],
    text: str,
    now: float,
) -> Refusals:
    """The valid numbers that are not sent: those hit by a fault, then those over a frequency limit."""
    refusals: Refusals = {}
    if recipient_codes:
        refusals = {i: recipient_codes[n] for i, n in enumerate(numbers) if n in recipient_codes}
    if ctx.tracker is not None:
        candidates = [i for i, iso in enumerate(iso_codes) if iso is not None and i not in refusals]
        verdicts = ctx.tracker.admit([numbers[i] for i in candidates], text, now)
        for position, code in zip(candidates, verdicts, strict=True):
            if code is not None:
                refusals[position] = (code, _LIMIT_MESSAGES[code])
    return refusals


def _send_status_set(
    batch: Batch, numbers: Sequence[str], iso_codes: Sequence[str | None], refusals: Refusals
) -> RawJson:
    # Up to 200 entries per request, hundreds of requests per second: accepted entries are written as JSON
    # directly (their values are digits, letters and an E.164 number, the context escaped once), which is
    # several times faster than json.dumps on a dict per entry.
    tail = (
        f'","Fee":{batch.fee},"SessionContext":{json.dumps(batch.session_context, ensure_ascii=False)},'
        '"Code":"Ok","Message":"send success","IsoCode":"'
    )
    statuses = [
        f'{{"SerialNo":"{serial_no}","PhoneNumber":"{number}{tail}{iso_code}"}}'
        for number, iso_code, serial_no in zip(
            batch.phone_numbers, batch.iso_codes, batch.serial_nos, strict=True
        )
    ]
    if len(statuses) < len(numbers):
        next_sent = iter(statuses).__next__
        statuses = [
            next_sent()
            if iso_code is not None and position not in refusals
            # Refused numbers are few: a dict each is fine.
            else _failure(number, iso_code, batch.session_context, refusals.get(position))
            for position, (number, iso_code) in enumerate(zip(numbers, iso_codes, strict=True))
        ]
    return RawJson("[" + ",".join(statuses) + "]")


def _failure(number: str, iso_code: str | None, session_context: str, refusal: tuple[str, str] | None) -> str:
    if refusal is None:
        refusal = (
            "InvalidParameterValue.IncorrectPhoneNumber",
            f"{number!r} is not a mobile number in E.164 format (+[country code][number]).",
        )
    status = {
        "SerialNo": "",
        "PhoneNumber": number,
        "Fee": 0,
        "SessionContext": session_context,
        "Code": refusal[0],
        "Message": refusal[1],
        "IsoCode": iso_code or phones.UNKNOWN_ISO_CODE,
    }
    return json.dumps(status, ensure_ascii=False)
