"""Checking a request's TC3-HMAC-SHA256 signature as Tencent Cloud does.

The signature is recomputed from the headers the client says it signed, exactly as they arrived, and from
the exact body bytes, with the provider's own signer; the tests use the official SDK as the client, so a
signing bug shared by the provider and the sandbox cannot go unnoticed.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from ..signing import ALGORITHM, Credentials, sign
from .errors import ApiError

SERVICE = "sms"
MAX_CLOCK_SKEW = 300
_REQUIRED_SIGNED_HEADERS = ("content-type", "host")


@dataclass(frozen=True)
class Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def _invalid(reason: str) -> ApiError:
    return ApiError("AuthFailure.InvalidAuthorization", f"The Authorization header is invalid: {reason}.")


def parse_authorization(value: str | None) -> Authorization:
    """Split ``TC3-HMAC-SHA256 Credential=ID/DATE/sms/tc3_request, SignedHeaders=a;b, Signature=HEX``."""
    if not value:
        raise _invalid("it is missing")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _invalid(f"the algorithm must be {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, field_value = part.strip().partition("=")
        if not sep:
            raise _invalid(f"{part.strip()!r} is not key=value")
        fields[key] = field_value
    try:
        credential, signed_headers, signature = (
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
        )
    except KeyError as missing:
        raise _invalid(f"{missing.args[0]} is missing") from None
    scope = credential.split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or not scope[0]:
        raise _invalid("Credential must be SecretId/Date/Service/tc3_request")
    names = tuple(name.strip().lower() for name in signed_headers.split(";"))
    for required in _REQUIRED_SIGNED_HEADERS:
        if required not in names:
            raise _invalid(f"SignedHeaders must include {required}")
    return Authorization(scope[0], scope[1], scope[2], names, signature)


def verify(headers: Mapping[str, str], body: bytes, credentials: Credentials, now: float) -> None:
    """Raise the AuthFailure Tencent would answer with, or return if the request is authentic.

    ``headers`` have lower-case names.
    """
    auth = parse_authorization(headers.get("authorization"))
    raw_timestamp = headers.get("x-tc-timestamp")
    if raw_timestamp is None:
        raise ApiError("MissingParameter", "The request is missing a required parameter `Timestamp`.")
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit()):
        raise ApiError("InvalidParameter", "The parameter `Timestamp` must be a Unix time in seconds.")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > MAX_CLOCK_SKEW:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            f"The request timestamp {timestamp} is more than {MAX_CLOCK_SKEW} seconds away from the server "
            "time; check the client's clock.",
        )
    if not hmac.compare_digest(auth.secret_id.encode(), credentials.secret_id.encode()):
        raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    signed: dict[str, str] = {}
    for name in auth.signed_headers:
        value = headers.get(name)
        if value is None:
            raise _invalid(f"the signed header {name} is not in the request")
        signed[name] = value
    expected = sign(credentials, service=SERVICE, timestamp=timestamp, payload=body, headers=signed)
    # The scope's service and date are part of the string to sign: a client that signs with the local date
    # instead of the UTC one, or for another service, fails here as it would at Tencent.
    given = f"{auth.date}/{auth.service}/tc3_request"
    if given != expected.credential_scope or not hmac.compare_digest(
        auth.signature.encode(), expected.signature.encode()
    ):
        raise ApiError("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
