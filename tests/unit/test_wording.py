from airflow_provider_tencent_sms.dispatch import MAX_BACKOFF, backoff
from airflow_provider_tencent_sms.exceptions import RequestNotSentError, TencentSmsApiError
from airflow_provider_tencent_sms.wording import plural


def test_plural():
    assert plural(1, "request") == "1 request"
    assert plural(0, "request") == "0 requests"
    assert plural(2, "recipient is", "recipients are") == "2 recipients are"


def test_backoff_doubles_from_the_codes_delay_and_is_capped():
    error = TencentSmsApiError("InternalError.Timeout", "m")
    first = backoff(error, 0)
    assert first == error.error_class.retry_after > 0
    assert backoff(error, 1) == 2 * first
    assert backoff(error, 20) == MAX_BACKOFF
    assert [backoff(RequestNotSentError("x"), a) for a in range(3)] == [1.0, 2.0, 4.0]
