"""Typed errors. None of them ever carries a SecretKey, a token or a full phone number."""

from __future__ import annotations

from .error_codes import Disposition, ErrorClass, classify


class TencentSmsError(Exception):
    """Base class of this provider's errors.

    ``outcome_unknown`` is True when the request may have been processed (and messages sent) although no
    answer came back: such a request must never be blindly re-sent.
    """

    retryable: bool = False
    outcome_unknown: bool = False


class InvalidConnectionError(TencentSmsError, ValueError):
    """The Airflow connection is missing or malformed; the message says which field and how to fix it."""


class TencentSmsApiError(TencentSmsError):
    """Tencent Cloud (or something in front of it) answered with an error.

    :param code: Tencent's error code, e.g. ``AuthFailure.SignatureFailure``; ``HttpError.<status>`` for
        non-200 answers and ``InvalidResponse`` for bodies that are not the API's JSON.
    :param message: Tencent's message, or a short excerpt of the unexpected body.
    :param request_id: Tencent's RequestId, when there is one.
    :param http_status: the HTTP status of the answer.
    :param outcome_unknown: whether the request may have been processed anyway (a proxy's 5xx).
    """

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        *,
        http_status: int = 200,
        outcome_unknown: bool = False,
        error_class: ErrorClass | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.outcome_unknown = outcome_unknown
        self.error_class = error_class or classify(code)
        self.retryable = self.error_class.retryable and not outcome_unknown
        super().__init__(self._text())

    @property
    def disposition(self) -> Disposition:
        return self.error_class.disposition

    def _text(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.error_class.hint:
            parts.append(f"({self.error_class.hint})")
        if self.request_id:
            parts.append(f"[RequestId {self.request_id}]")
        if self.http_status != 200:
            parts.append(f"[HTTP {self.http_status}]")
        return " ".join(parts)

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (self.code, self.message, self.request_id, self.http_status, self.outcome_unknown),
        )


def _rebuild_api_error(
    code: str, message: str, request_id: str | None, http_status: int, outcome_unknown: bool
) -> TencentSmsApiError:
    return TencentSmsApiError(
        code, message, request_id, http_status=http_status, outcome_unknown=outcome_unknown
    )


class TencentSmsNetworkError(TencentSmsError):
    """The HTTP exchange failed before an answer came back."""


class RequestNotSentError(TencentSmsNetworkError):
    """The request never reached the server (connection refused, DNS, TLS handshake): safe to retry."""

    retryable = True


class OutcomeUnknownError(TencentSmsNetworkError):
    """The request was written but no answer came (read timeout, connection dropped).

    Tencent may have sent the messages: re-sending could deliver them twice.
    """

    outcome_unknown = True


def is_transient_not_sent(exc: TencentSmsError) -> bool:
    """Whether ``exc`` says the request was certainly not processed and the same request may succeed later.

    True for a request that never reached the server and for Tencent's transient whole-request codes
    (throttling, Tencent-side errors); never for an outcome-unknown error, which re-sending could duplicate.
    """
    if isinstance(exc, TencentSmsApiError):
        return exc.retryable and exc.disposition is Disposition.TRANSIENT
    return isinstance(exc, RequestNotSentError)
