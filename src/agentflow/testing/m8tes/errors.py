"""The m8tes v2 error envelope and the errors the emulator answers with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._wire import ApiError

__all__ = ["ERROR_TYPES", "M8tesApiError", "conflict", "invalid", "not_found"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "validation_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "api_error",
}


class M8tesApiError(ApiError):
    """An error answered as ``{"error": {type, message, code, request_id, error_code,
    details}}``: ``code`` is the HTTP status and ``error_code`` the machine-readable reason
    (also in ``details.error_code``, where current servers put it)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, ERROR_TYPES.get(status, "api_error"), message, headers=headers)
        self.error_code = error_code

    def body(self) -> dict[str, Any]:
        """The v2 error envelope (the request id is added by the HTTP layer)."""
        error: dict[str, Any] = {"type": self.type, "message": self.message, "code": self.status}
        if self.error_code is not None:
            error["error_code"] = self.error_code
            error["details"] = {"error_code": self.error_code}
        return {"error": error}


def invalid(message: str) -> M8tesApiError:
    """A 422 validation error."""
    return M8tesApiError(422, message, error_code="validation_error")


def not_found(message: str, error_code: str) -> M8tesApiError:
    """A 404 with a machine-readable reason."""
    return M8tesApiError(404, message, error_code=error_code)


def conflict(message: str, error_code: str) -> M8tesApiError:
    """A 409 with a machine-readable reason."""
    return M8tesApiError(409, message, error_code=error_code)
