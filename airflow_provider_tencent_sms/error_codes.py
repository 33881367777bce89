"""The one table that says what each Tencent Cloud error code means for a send.

Code, tests and the docs' error-code page all read :data:`ERROR_CODES`; :func:`classify` answers for any
code, including ones Tencent adds later (see :data:`PREFIX_DEFAULTS`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Disposition(str, enum.Enum):
    """What a failure means for the messages it concerns."""

    #: Nothing was sent; the same request may succeed later (throttling, Tencent-side trouble).
    TRANSIENT = "transient"
    #: The request cannot succeed as configured (credentials, template, signature, balance, parameters…).
    TERMINAL = "terminal"
    #: This recipient cannot get the message (block list, invalid number, its own daily limits…).
    RECIPIENT_TERMINAL = "recipient-terminal"
    #: This recipient is briefly rate-limited; retry it alone after ``retry_after`` seconds.
    RECIPIENT_TRANSIENT = "recipient-transient"
    #: Marketing SMS outside 08:00-22:00: send again when the window opens.
    OUTSIDE_SEND_WINDOW = "outside-send-window"


@dataclass(frozen=True)
class ErrorClass:
    disposition: Disposition
    #: What to check or do, for error messages.
    hint: str = ""
    #: For transient codes: seconds to wait before trying again.
    retry_after: float = 0.0

    @property
    def retryable(self) -> bool:
        return self.disposition in (Disposition.TRANSIENT, Disposition.RECIPIENT_TRANSIENT)


_T = Disposition.TERMINAL
_TR = Disposition.TRANSIENT
_RT = Disposition.RECIPIENT_TERMINAL
_RTR = Disposition.RECIPIENT_TRANSIENT

_CHECK_TEMPLATE = "check template_id and that the template is approved in the SMS console"
_CHECK_SIGN = "check sign_name: it must be the approved signature's content"
_CHECK_APP = "check the connection's sms_sdk_app_id (SMS console > Applications)"
_CHECK_PARAMS = "check the request parameters"
_CHECK_ACCOUNT = "check the Tencent Cloud account (SMS console)"
_ASK_SUPPORT = "contact Tencent Cloud SMS support"
_DAILY = "a daily sending limit is reached; it resets tomorrow or can be raised in the SMS console"
_NOT_TENCENT = "a gateway or proxy answered instead of Tencent Cloud"
_OUTCOME_UNKNOWN = (
    "the request may or may not have reached Tencent (outcome unknown), so it is not re-sent and its "
    "recipients are reported as outcome unknown"
)

#: The hook's codes for answers that are not Tencent Cloud API JSON: ``HttpError.<status>`` for a non-200
#: status (classified by its first digit), ``InvalidResponse`` for a 200 or an answer missing its fields.
HTTP_ERROR_PREFIX = "HttpError."
HTTP_4XX = "HttpError.4xx"
HTTP_5XX = "HttpError.5xx"
INVALID_RESPONSE = "InvalidResponse"

ERROR_CODES: dict[str, ErrorClass] = {
    # Common API 3.0 errors.
    "ActionOffline": ErrorClass(_T, "the API action is offline"),
    "AuthFailure.InvalidAuthorization": ErrorClass(_T, "the Authorization header is malformed"),
    "AuthFailure.InvalidSecretId": ErrorClass(_T, "check the SecretId (connection login)"),
    "AuthFailure.MFAFailure": ErrorClass(_T, "MFA is required for these credentials"),
    "AuthFailure.SecretIdNotFound": ErrorClass(
        _T, "check the SecretId (connection login): it does not exist"
    ),
    "AuthFailure.SignatureExpire": ErrorClass(
        _T, "the signing clock is more than 5 minutes off: check this machine's clock (NTP)"
    ),
    "AuthFailure.SignatureFailure": ErrorClass(
        _T, "check the SecretKey (connection password), e.g. for a trailing space copied from the console"
    ),
    "AuthFailure.TokenFailure": ErrorClass(_T, "the temporary credentials' token is invalid or expired"),
    "AuthFailure.UnauthorizedOperation": ErrorClass(
        _T, "the credentials may not call SMS (check CAM policy)"
    ),
    "DryRunOperation": ErrorClass(_T, "a dry run was requested"),
    "FailedOperation": ErrorClass(_T, _CHECK_PARAMS),
    "InternalError": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InvalidAction": ErrorClass(_T, "unknown API action"),
    "InvalidParameter": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidRequest": ErrorClass(_T, "the request body is not valid"),
    "IpInBlacklist": ErrorClass(_T, "this machine's IP is blocked by Tencent Cloud"),
    "IpNotInWhitelist": ErrorClass(_T, "this machine's IP is not in the account's allow list"),
    "LimitExceeded": ErrorClass(_T, "an account quota is exceeded"),
    "MissingParameter": ErrorClass(_T, _CHECK_PARAMS),
    "NoSuchProduct": ErrorClass(_T, "check the endpoint: it does not serve SMS"),
    "NoSuchVersion": ErrorClass(_T, "check the connection's api_version"),
    "RequestLimitExceeded": ErrorClass(_TR, "API rate limit", retry_after=1),
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": ErrorClass(_TR, "API rate limit", retry_after=1),
    "RequestLimitExceeded.IPLimitExceeded": ErrorClass(_TR, "API rate limit for this IP", retry_after=1),
    "RequestLimitExceeded.UinLimitExceeded": ErrorClass(_TR, "API rate limit for the account", retry_after=1),
    "ResourceInUse": ErrorClass(_TR, "the resource is busy", retry_after=5),
    "ResourceNotFound": ErrorClass(_T, "the resource does not exist"),
    "UnauthorizedOperation": ErrorClass(_T, "the credentials are not allowed to do this"),
    "UnsupportedOperation": ErrorClass(_T, "the operation is not supported"),
    "UnsupportedRegion": ErrorClass(_T, "check the connection's region"),
    # Not Tencent's codes: the hook's, for answers that did not come from Tencent Cloud API (see classify).
    HTTP_5XX: ErrorClass(_T, f"{_NOT_TENCENT}: {_OUTCOME_UNKNOWN}"),
    HTTP_4XX: ErrorClass(
        _T,
        f"{_NOT_TENCENT} and refused the request (a 4xx is not acted on): check the proxy "
        "(HTTPS_PROXY, NO_PROXY) and the connection's host; it is not re-sent",
    ),
    INVALID_RESPONSE: ErrorClass(
        _T,
        f"the answer is not Tencent Cloud API JSON (a proxy or a captive portal answered?): {_OUTCOME_UNKNOWN}",
    ),
    # SMS: sending.
    "FailedOperation.ContainSensitiveWord": ErrorClass(_T, "the message contains words Tencent refuses"),
    "FailedOperation.FailResolvePacket": ErrorClass(_T, "Tencent could not parse the request"),
    "FailedOperation.InsufficientBalanceInSmsPackage": ErrorClass(_T, "the SMS package balance is used up"),
    "FailedOperation.JsonParseFail": ErrorClass(_T, "Tencent could not parse the request"),
    "FailedOperation.MarketingSendTimeConstraint": ErrorClass(
        Disposition.OUTSIDE_SEND_WINDOW, "marketing SMS are sent between 08:00 and 22:00 only"
    ),
    "FailedOperation.MissingSignature": ErrorClass(_T, _CHECK_SIGN),
    "FailedOperation.MissingSignatureList": ErrorClass(_T, _CHECK_SIGN),
    "FailedOperation.MissingSignatureToModify": ErrorClass(_T, _CHECK_SIGN),
    "FailedOperation.MissingTemplateList": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.MissingTemplateToModify": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.NotEnterpriseCertification": ErrorClass(_T, "the account is not enterprise-certified"),
    "FailedOperation.OtherError": ErrorClass(_T, _ASK_SUPPORT),
    "FailedOperation.ParametersOtherError": ErrorClass(_T, _CHECK_PARAMS),
    "FailedOperation.PhoneNumberInBlacklist": ErrorClass(
        _RT, "the number is on a block list (unsubscribed, or the carrier's)"
    ),
    "FailedOperation.PhoneNumberParseFail": ErrorClass(_RT, "the number could not be parsed"),
    "FailedOperation.ProhibitSubAccountUse": ErrorClass(_T, "sub-accounts may not use this API"),
    "FailedOperation.QualificationIdNotApproved": ErrorClass(_T, _CHECK_ACCOUNT),
    "FailedOperation.SignIdNotExist": ErrorClass(_T, _CHECK_SIGN),
    "FailedOperation.SignNumberLimit": ErrorClass(_T, _CHECK_SIGN),
    "FailedOperation.SignatureIncorrectOrUnapproved": ErrorClass(_T, _CHECK_SIGN),
    "FailedOperation.TemplateAlreadyPassedCheck": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.TemplateIdNotExist": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.TemplateIncorrectOrUnapproved": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.TemplateNumberLimit": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": ErrorClass(
        _T, "the number of template_params does not match the template's variables"
    ),
    "FailedOperation.TemplateUnapprovedOrNotExist": ErrorClass(_T, _CHECK_TEMPLATE),
    "FailedOperation.ForbidAddMarketingTemplates": ErrorClass(_T, _CHECK_ACCOUNT),
    "InternalError.ConstructUserDataFail": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InternalError.JsonParseFail": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InternalError.OtherError": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InternalError.ParseBackendResponseFail": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InternalError.RequestTimeException": ErrorClass(
        _T, "this machine's clock differs from Tencent's by over 10 minutes: check NTP"
    ),
    "InternalError.RestApiInterfaceNotExist": ErrorClass(_T, "the API does not exist; check api_version"),
    "InternalError.SendAndRecvFail": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InternalError.SigFieldMissing": ErrorClass(_T, _ASK_SUPPORT),
    "InternalError.SigVerificationFail": ErrorClass(_T, _ASK_SUPPORT),
    "InternalError.Timeout": ErrorClass(_TR, "Tencent timed out delivering; nothing was sent", retry_after=5),
    "InternalError.UnknownError": ErrorClass(_TR, "Tencent-side error", retry_after=5),
    "InvalidParameter.AppidAndBizId": ErrorClass(_T, _CHECK_APP),
    "InvalidParameter.DirtyWordFound": ErrorClass(_T, "the message contains words Tencent refuses"),
    "InvalidParameter.InvalidParameters": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.BeginTimeVerifyFail": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.ContentLengthLimit": ErrorClass(_T, "the rendered message is too long"),
    "InvalidParameterValue.EndTimeVerifyFail": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.ImageInvalid": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.IncorrectPhoneNumber": ErrorClass(_RT, "the number is not a valid mobile number"),
    "InvalidParameterValue.InvalidDocumentType": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.InvalidInternational": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.InvalidSignPurpose": ErrorClass(_T, _CHECK_SIGN),
    "InvalidParameterValue.InvalidSmsType": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.InvalidStartTime": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.InvalidTemplateFormat": ErrorClass(_T, _CHECK_TEMPLATE),
    "InvalidParameterValue.InvalidUsedMethod": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.LimitVerifyFail": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe": ErrorClass(_T, _CHECK_TEMPLATE),
    "InvalidParameterValue.MissingSignatureList": ErrorClass(_T, _CHECK_SIGN),
    "InvalidParameterValue.MultiSmsInfoSetEmpty": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.OffsetVerifyFail": ErrorClass(_T, _CHECK_PARAMS),
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": ErrorClass(
        _T, "a template parameter contains a URL, which Tencent forbids"
    ),
    "InvalidParameterValue.QualificationIdNotFound": ErrorClass(_T, _CHECK_ACCOUNT),
    "InvalidParameterValue.SdkAppIdNotExist": ErrorClass(_T, _CHECK_APP),
    "InvalidParameterValue.SdkAppidNotExist": ErrorClass(_T, _CHECK_APP),
    "InvalidParameterValue.SignAlreadyPassedCheck": ErrorClass(_T, _CHECK_SIGN),
    "InvalidParameterValue.SignExistAndUnapproved": ErrorClass(_T, _CHECK_SIGN),
    "InvalidParameterValue.SignNameLengthTooLong": ErrorClass(_T, _CHECK_SIGN),
    "InvalidParameterValue.TemplateParameterFormatError": ErrorClass(
        _T, "verification-code template parameters must be 0-6 digits"
    ),
    "InvalidParameterValue.TemplateParameterLengthLimit": ErrorClass(
        _T, "a template parameter is over 12 characters (the limit of individual accounts)"
    ),
    "InvalidParameterValue.TemplateWithDirtyWords": ErrorClass(_T, _CHECK_TEMPLATE),
    "InvalidParameterValue.UnsupportedTemplateVariable": ErrorClass(_T, _CHECK_TEMPLATE),
    "LimitExceeded.AppCountryOrRegionDailyLimit": ErrorClass(_T, _DAILY),
    "LimitExceeded.AppCountryOrRegionInBlacklist": ErrorClass(
        _RT, "the application may not send to this country or region"
    ),
    "LimitExceeded.AppDailyLimit": ErrorClass(_T, _DAILY),
    "LimitExceeded.AppGlobalDailyLimit": ErrorClass(_T, _DAILY),
    "LimitExceeded.AppMainlandChinaDailyLimit": ErrorClass(_T, _DAILY),
    "LimitExceeded.DailyLimit": ErrorClass(_T, _DAILY),
    "LimitExceeded.DeliveryFrequencyLimit": ErrorClass(
        _RTR, "the frequency limit policy was hit for this number", retry_after=60
    ),
    "LimitExceeded.GlobalSmsSendingRateLimit": ErrorClass(_TR, "global SMS sending rate", retry_after=1),
    "LimitExceeded.PhoneNumberCountLimit": ErrorClass(_T, "more than 200 numbers in one request"),
    "LimitExceeded.PhoneNumberDailyLimit": ErrorClass(_RT, "this number's daily limit is reached"),
    "LimitExceeded.PhoneNumberOneHourLimit": ErrorClass(
        _RTR, "this number's hourly limit is reached", retry_after=3600
    ),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": ErrorClass(
        _RT, "this number got the same content too often today"
    ),
    "LimitExceeded.PhoneNumberThirtySecondLimit": ErrorClass(
        _RTR, "this number got a message less than 30 seconds ago", retry_after=30
    ),
    "MissingParameter.EmptyPhoneNumberSet": ErrorClass(_T, "no phone numbers in the request"),
    "MissingParameter.MissingSignatureList": ErrorClass(_T, _CHECK_SIGN),
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": ErrorClass(
        _T, "individual accounts may not send marketing SMS"
    ),
    "UnauthorizedOperation.RequestIpNotInWhitelist": ErrorClass(
        _T, "this machine's IP is not in the SMS allow list"
    ),
    "UnauthorizedOperation.RequestPermissionDeny": ErrorClass(_T, _ASK_SUPPORT),
    "UnauthorizedOperation.SdkAppIdIsDisabled": ErrorClass(_T, _CHECK_APP),
    "UnauthorizedOperation.SdkAppidIsDisabled": ErrorClass(_T, _CHECK_APP),
    "UnauthorizedOperation.ServiceSuspendDueToArrears": ErrorClass(
        _T, "the account is in arrears: top it up"
    ),
    "UnauthorizedOperation.SerivceSuspendDueToArrears": ErrorClass(
        _T, "the account is in arrears: top it up"
    ),
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": ErrorClass(_T, _CHECK_APP),
    "UnauthorizedOperation.SmsSdkAppidVerifyFail": ErrorClass(_T, _CHECK_APP),
    "UnsupportedOperation.": ErrorClass(_T, "the operation is not supported"),
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone": ErrorClass(
        _T, "a Mainland China template cannot be sent to global numbers"
    ),
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": ErrorClass(
        _T, "Mainland China and global numbers were mixed in one request"
    ),
    "UnsupportedOperation.ContainDomesticPhoneNumber": ErrorClass(
        _T, "a global template cannot be sent to Mainland China numbers"
    ),
    "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone": ErrorClass(
        _T, "a global template cannot be sent to Mainland China numbers"
    ),
    "UnsupportedOperation.UnsupportedRegion": ErrorClass(
        _RT, "SMS to this country or region is not supported"
    ),
    "UnsupportedOperation.UnsuportedRegion": ErrorClass(
        _RT, "SMS to this country or region is not supported"
    ),
}

#: Codes that say the application id (SdkAppId) is wrong, unknown or disabled.
WRONG_APP_ID_CODES = frozenset(code for code, cls in ERROR_CODES.items() if cls.hint == _CHECK_APP)

#: For codes not in the table: the disposition of their family (the part before the first dot).
#: Anything else is terminal: retrying what we do not understand could cost money or annoy people.
PREFIX_DEFAULTS: dict[str, ErrorClass] = {
    "InternalError": ErrorClass(_TR, "Tencent-side error (code not in this provider's table)", retry_after=5),
    "RequestLimitExceeded": ErrorClass(
        _TR, "API rate limit (code not in this provider's table)", retry_after=1
    ),
}
UNKNOWN_CODE = ErrorClass(_T, "unknown error code: see Tencent Cloud's documentation for it")


def classify(code: str) -> ErrorClass:
    """Return what ``code`` means for a send; never raises."""
    found = ERROR_CODES.get(code)
    if found is not None:
        return found
    if code.startswith(HTTP_ERROR_PREFIX):
        # HttpError.502 -> HttpError.5xx
        found = ERROR_CODES.get(code[: len(HTTP_ERROR_PREFIX) + 1] + "xx")
        if found is not None:
            return found
    return PREFIX_DEFAULTS.get(code.split(".", 1)[0], UNKNOWN_CODE)
