"""SendSms's validation rules and billing, as pure functions; each failure is the code Tencent answers with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from .errors import ApiError
from .phones import MAINLAND_ISO_CODE
from .templates import Registry, ReviewStatus, Template, TemplateKind

MAX_NUMBERS = 200
#: Marketing SMS may be sent from 08:00 until 22:00 local time (Beijing time by default).
MARKETING_HOURS = (8, 22)

_VERIFICATION_CODE = re.compile(r"[0-9]{0,6}")
#: A scheme, "www." or a host name under a common top-level domain; "v1.2" or "3.5 kg" are not URLs.
_URL = re.compile(
    r"[a-z][a-z0-9+.-]*://|\bwww\.|"
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|cn|io|co|me|info|biz|top|xyz|app|dev|cc|tv|ly)\b",
    re.IGNORECASE,
)


def check_number_count(numbers: Sequence[str]) -> None:
    if not numbers:
        raise ApiError("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
    if len(numbers) > MAX_NUMBERS:
        raise ApiError(
            "LimitExceeded.PhoneNumberCountLimit",
            f"PhoneNumberSet has {len(numbers)} numbers; at most {MAX_NUMBERS} are allowed per request.",
        )


def is_mainland_batch(iso_codes: Sequence[str | None]) -> bool | None:
    """Whether the valid numbers are Mainland China ones (None if no number is valid).

    Raises if they mix Mainland and global numbers; invalid numbers are answered one by one later.
    """
    regions = set(iso_codes)
    regions.discard(None)
    if not regions:
        return None
    mainland = MAINLAND_ISO_CODE in regions
    if mainland and len(regions) > 1:
        raise ApiError(
            "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
            "Mainland China and global numbers cannot be sent in the same request.",
        )
    return mainland


def find_template(registry: Registry, template_id: str, mainland: bool | None) -> Template:
    template = registry.templates.get(template_id)
    if template is None or template.status is not ReviewStatus.APPROVED:
        raise ApiError(
            "FailedOperation.TemplateIncorrectOrUnapproved",
            f"Template {template_id!r} does not exist or is not approved.",
        )
    if mainland is not None and not template.scope.allows(mainland):
        if mainland:
            raise ApiError(
                "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone",
                f"Template {template_id} is a global template and cannot be sent to Mainland China numbers.",
            )
        raise ApiError(
            "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
            f"Template {template_id} is a Mainland China template and cannot be sent to global numbers.",
        )
    return template


def check_signature(registry: Registry, sign_name: str | None, mainland: bool | None) -> None:
    """A signature is required for Mainland China; when one is given it must be an approved one."""
    if sign_name is None and mainland is not True:
        return
    if sign_name not in registry.signatures:
        raise ApiError(
            "FailedOperation.SignatureIncorrectOrUnapproved",
            "A signature is required for Mainland China numbers."
            if sign_name is None
            else f"Signature {sign_name!r} is not approved.",
        )


def check_template_params(template: Template, params: Sequence[str], length_limit: int | None) -> None:
    if len(params) != template.param_count:
        raise ApiError(
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            f"Template {template.id} has {template.param_count} parameters; {len(params)} were given.",
        )
    for position, value in enumerate(params, start=1):
        if template.kind is TemplateKind.VERIFICATION and not _VERIFICATION_CODE.fullmatch(value):
            raise ApiError(
                "InvalidParameterValue.TemplateParameterFormatError",
                f"Parameter {{{position}}} of verification template {template.id} must be 0-6 digits.",
            )
        if _URL.search(value):
            raise ApiError(
                "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
                f"Parameter {{{position}}} contains a URL; URLs are not allowed in template parameters.",
            )
        if length_limit is not None and len(value) > length_limit:
            raise ApiError(
                "InvalidParameterValue.TemplateParameterLengthLimit",
                f"Parameter {{{position}}} has {len(value)} characters; at most {length_limit} are allowed.",
            )


def check_send_time(template: Template, now: float, zone: tzinfo) -> None:
    if template.kind is not TemplateKind.MARKETING:
        return
    start, end = MARKETING_HOURS
    if not start <= datetime.fromtimestamp(now, zone).hour < end:
        raise ApiError(
            "FailedOperation.MarketingSendTimeConstraint",
            f"Marketing messages can only be sent between {start:02d}:00 and {end:02d}:00.",
        )
