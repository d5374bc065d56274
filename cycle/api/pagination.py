"""Every list is paged: by page number, or for the audit trail by sequence number."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def _whole_number(request: Any, name: str, lowest: int, highest: int) -> int | None:
    """The query parameter ``name`` as a number from ``lowest`` to ``highest``; None if absent.
    Anything else is a 400 naming the parameter, never silently the default."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise ValidationError(
            {name: [f"Must be a whole number from {lowest} to {highest}."]}, code="invalid"
        )
    return int(raw)


class PagePagination(PageNumberPagination):
    """``?page=N&page_size=M``: a page past the last answers 404, a page or size that is not a
    whole number in range answers 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_page_message = "There is no page {page_number}: {message}"

    def get_page_number(self, request: Any, paginator: Any) -> int:
        return _whole_number(request, self.page_query_param, 1, 2**63 - 1) or 1

    def get_page_size(self, request: Any) -> int:
        return (
            _whole_number(request, self.page_size_query_param, 1, self.max_page_size)
            or self.page_size
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        ranges = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"] |= ranges.get(parameter["name"], {})
        return parameters


class SequencePagination(BasePagination):
    """The ledger in order of sequence number: ``?after=SEQ&limit=N``, resumable from any event.

    ``next`` is the same query after the last event returned, or null at the end of the ledger.
    """

    default_limit = 100
    max_limit = 1000

    def _number(self, request: Any, name: str, default: int, lowest: int, highest: int) -> int:
        found = _whole_number(request, name, lowest, highest)
        return default if found is None else found

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        self.after = self._number(request, "after", 0, 0, 2**63 - 1)
        self.limit = self._number(request, "limit", self.default_limit, 1, self.max_limit)
        self.request = request
        rows = list(queryset.filter(seq__gt=self.after).order_by("seq")[: self.limit + 1])
        self.has_more = len(rows) > self.limit
        self.page = rows[: self.limit]
        return self.page

    def get_paginated_response(self, data: Any) -> Response:
        next_url = None
        if self.has_more:
            url = self.request.build_absolute_uri()
            next_url = replace_query_param(url, "after", self.page[-1].seq)
            next_url = replace_query_param(next_url, "limit", self.limit)
        return Response(
            {
                "after": self.after,
                "last_seq": self.page[-1].seq if self.page else None,
                "next": next_url,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["after", "last_seq", "next", "results"],
            "properties": {
                "after": {"type": "integer", "description": "The sequence number asked after."},
                "last_seq": {
                    "type": "integer",
                    "nullable": True,
                    "description": "The sequence number of the last event on this page.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "Only events with a greater sequence number (default 0).",
                "schema": {"type": "integer", "minimum": 0},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"At most this many events (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]
