"""Schema additions: every operation documents its problem responses (``problems``)."""

from __future__ import annotations

from typing import Any

from .problems import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is the stable code of the error.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "gate.closed"},
        "instance": {"type": "string"},
        "stage": {"type": "string", "description": "For gate.closed: the stage whose gate."},
        "unmet": {
            "type": "array",
            "description": "For gate.closed: every unmet condition of the gate.",
            "items": {"$ref": "#/components/schemas/UnmetCondition"},
        },
        "errors": {
            "type": "array",
            "description": "For invalid: what is wrong with each field.",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_READ = {
    "400": "The query is not valid (a filter or page out of range).",
    "401": "Not signed in, or the token is unknown, revoked or expired.",
    "403": "Signed in, but not allowed.",
    "404": "No such object, or one the caller may not see.",
    "406": "The Accept header asks for a type the API does not serve.",
    "429": "Too many requests with this token; see Retry-After.",
}
_WRITE = {
    **_READ,
    "400": "The request is not valid (its shape, or a service's check).",
    "409": "The cycle is not in a state that allows this (for an advance: the gate is closed).",
    "415": "The body is not JSON.",
}


def add_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.setdefault(
        "UnmetCondition",
        {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
    )
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = _READ if method in ("get", "head") else _WRITE
            for status, description in statuses.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            PROBLEM_CONTENT_TYPE: {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }
                        },
                    },
                )
    return result
