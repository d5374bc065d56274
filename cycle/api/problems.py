"""Every API error as an RFC 9457 problem (``application/problem+json``) with a stable code.

A service's error keeps the service's code (``cycle.errors``): ``InvalidRequest`` answers 400,
``Forbidden`` 403, ``NotFound`` 404, ``Conflict`` 409, and ``GateClosed`` 409 with every unmet
condition of the gate (code and message). A request of the wrong shape answers 400 with code
``invalid`` and one entry per field in ``errors``. An object the caller may not see answers 404
exactly as a missing one does. A fault of the server answers 500 ``server_error`` (and is
logged with its traceback).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

from cycle.errors import Conflict, Forbidden, GateClosed, InvalidRequest, NotFound, ServiceError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:commissioning-cycle:problem:"

_SERVICE_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (GateClosed, 409),
    (Conflict, 409),
    (Forbidden, 403),
    (NotFound, 404),
    (InvalidRequest, 400),
)

# Codes for DRF's own errors, which carry no service code.
_DRF_CODES = {
    exceptions.NotAuthenticated: "auth.required",
    exceptions.AuthenticationFailed: "auth.failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "invalid.json",
}


def problem(
    status: int, code: str, detail: str, instance: str = "", **extensions: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return body


def problem_response(status: int, body: dict[str, Any], **headers: str) -> Response:
    return Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _service_problem(error: ServiceError, instance: str) -> tuple[int, dict[str, Any]]:
    status = next((s for kind, s in _SERVICE_STATUS if isinstance(error, kind)), 400)
    extensions: dict[str, Any] = {}
    if isinstance(error, GateClosed):
        extensions["stage"] = error.stage_key
        extensions["unmet"] = [
            {"code": item.code, "message": str(item.message)} for item in error.result.unmet
        ]
    # str(): a message in the active language (cycle.i18n), as a page would show it.
    return status, problem(status, error.code, str(error.message), instance, **extensions)


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into ``[{field, code, message}]``."""
    found: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            found += _field_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                found += _field_errors(value, f"{prefix}[{index}]")
            else:
                found += _field_errors(value, prefix)
    else:
        found.append(
            {"field": prefix, "code": getattr(detail, "code", "invalid"), "message": str(detail)}
        )
    return found


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, ServiceError):
        set_rollback()
        status, body = _service_problem(exc, instance)
        return problem_response(status, body)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        # A fault of ours: logged with its traceback, answered as a problem like any other.
        logger.exception("API request %s failed", instance)
        set_rollback()
        return problem_response(
            500,
            problem(500, "server_error", "Something went wrong on the server.", instance),
        )
    set_rollback()
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        view = context.get("view")
        header = view.get_authenticate_header(request) if view is not None else None
        if header:
            headers["WWW-Authenticate"] = header
            exc.status_code = 401
    status = exc.status_code
    if isinstance(exc, serializers.ValidationError):
        errors = _field_errors(exc.detail)
        detail = "The request is not valid: " + "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
        )
        return problem_response(status, problem(status, "invalid", detail, instance, errors=errors))
    code = next((c for kind, c in _DRF_CODES.items() if isinstance(exc, kind)), "error")
    detail = exc.detail
    if isinstance(detail, exceptions.ErrorDetail) and detail.code and "." in detail.code:
        code = detail.code  # our own codes, e.g. auth.invalid_token
    return problem_response(status, problem(status, code, str(detail), instance), **headers)
