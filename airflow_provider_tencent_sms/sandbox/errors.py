"""The error a request is answered with, in Tencent Cloud API 3.0's ``Response.Error`` envelope."""

from __future__ import annotations


class ApiError(Exception):
    """Stops handling a request; becomes ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
