"""The governance board member's pages.

- the compliance dashboard across the organisations their boards oversee, with charts;
- a cycle's record: its stages, gate, override history, dissents and recent ledger events;
- overriding a gate with reasons (``cycle.services.gate_override``);
- the audit trail with filters, paged by sequence number, and the **Verify** button;
- downloads: the report on involvement (HTML, CSV, PDF) and a cycle's ledger (JSON Lines, CSV).

Only what the board member audits is reachable (``cycle.selectors.cycles_audited_by``): another
organisation's cycle, or any of these pages for someone on no board, is "not found". The views
read through selectors and write only through the override service.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.views import View

from cycle import chain, ledger, selectors, services
from cycle.compliance import cycle_compliance, organisations_compliance
from cycle.gates import GateResult, waivable
from cycle.models import AuditEvent, CommissioningCycle
from cycle.reports import (
    ReportUnavailable,
    involvement_report,
    render_csv,
    render_html,
    render_pdf,
)
from cycle.stages import get_template
from roles.permissions import Action, refusal

from ..forms import SummaryItem
from ..views.base import Page, ServiceFormView
from . import dashboard
from .forms import AuditFilterForm, OverrideForm, ReportForm

RECENT_EVENTS = 10


class BoardMemberMixin:
    """Pages for governance board members only; anyone else finds nothing here."""

    request: HttpRequest

    @cached_property
    def organisations(self) -> list[Any]:
        organisations = list(selectors.organisations_overseen_by(self.request.user))
        if not organisations:
            raise Http404("No organisations overseen")
        return organisations


class AuditedCycleMixin(BoardMemberMixin):
    """A page about one cycle the board member audits; any other cycle is "not found"."""

    kwargs: dict[str, Any]

    @cached_property
    def cycle(self) -> CommissioningCycle:
        cycle = (
            selectors.cycles_audited_by(self.request.user)
            .select_related("organisation", "lead_commissioner")
            .filter(pk=self.kwargs["cycle_id"])
            .first()
        )
        if cycle is None:
            raise Http404("No such cycle")
        return cycle

    def stage_name(self, stage_key: str) -> str:
        template = get_template(self.cycle.template_key)
        return template.get(stage_key).name if stage_key in template.keys else stage_key


# The dashboard


class DashboardView(BoardMemberMixin, Page):
    template_name = "web/governance/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        reports = organisations_compliance(self.organisations)
        return super().get_context_data(
            sections=[
                {
                    "report": report,
                    "slug": f"org-{report.organisation_id}",
                    "charts": dashboard.organisation_charts(
                        report, f"org-{report.organisation_id}"
                    ),
                    "rows": dashboard.cycle_rows(report),
                }
                for report in reports
            ],
            **kwargs,
        )


# A cycle's record


class CycleRecordView(AuditedCycleMixin, Page):
    template_name = "web/governance/cycle.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cycle = self.cycle
        summary = selectors.cycle_summary(cycle)
        record = cycle_compliance(cycle)
        recent = selectors.audit_trail(
            self.request.user, selectors.AuditFilters(cycle_id=cycle.pk), size=RECENT_EVENTS
        )
        may_override = refusal(self.request.user, Action.OVERRIDE, cycle) is None
        gate_closed = cycle.status == CommissioningCycle.Status.ACTIVE and bool(
            summary["gate"]["unmet"]
        )
        return super().get_context_data(
            cycle=cycle,
            summary=summary,
            record=record,
            recent=recent,
            gate_closed=gate_closed,
            may_override=may_override,
            **kwargs,
        )


# Overriding a gate


class OverrideView(AuditedCycleMixin, ServiceFormView):
    template_name = "web/governance/override.html"
    form_class = OverrideForm
    submit_label = "Record the override"

    @cached_property
    def gate(self) -> GateResult:
        return selectors.gate_state(self.cycle)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "unmet": self.gate.unmet}

    def perform(self, form: Any) -> Any:
        return services.gate_override(
            actor=self.request.user,
            cycle_id=self.cycle.pk,
            reason=form.cleaned_data["reason"],
            codes=form.cleaned_data["codes"],
        )

    def confirmation(self, result: Any) -> str:
        stage = self.stage_name(self.cycle.current_stage)
        done = f"You overrode the gate of “{stage}”. The board's reasons are on the record"
        if selectors.gate_state(self.cycle).passable:
            return done + "; the lead commissioner can now move the cycle on."
        return done + ", but the gate is still closed by the conditions you did not tick."

    def get_success_url(self) -> str:
        return reverse("web:governance-cycle", args=[self.cycle.pk])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        cycle = self.cycle
        return super().get_context_data(
            cycle=cycle,
            stage=self.stage_name(cycle.current_stage),
            gate=self.gate,
            never_waived=[item for item in self.gate.unmet if not waivable(item.code)],
            dissents=selectors.open_dissents(cycle),
            active=cycle.status == CommissioningCycle.Status.ACTIVE,
            **kwargs,
        )


# The audit trail and the Verify button


class AuditTrailView(BoardMemberMixin, Page):
    template_name = "web/governance/audit.html"

    def filter_form(self) -> AuditFilterForm:
        names = dashboard.stage_names()
        return AuditFilterForm(
            self.request.GET or None,
            actions=selectors.audit_actions(self.request.user),
            cycles=selectors.cycles_audited_by(self.request.user)
            .select_related("organisation")
            .order_by("organisation__name", "title", "id"),
            stages=sorted(names.items(), key=lambda item: item[1]),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        self.organisations  # noqa: B018 - board members only
        form = self.filter_form()
        filters = selectors.AuditFilters()
        context: dict[str, Any] = {}
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            filters = selectors.AuditFilters(
                action=data["action"],
                outcome=data["outcome"],
                actor=data["actor"].strip(),
                stage_key=data["stage"],
                period_from=data["period_from"],
                period_to=data["period_to"],
                cycle_id=data["cycle"],
            )
        elif form.is_bound:
            context["error_summary"] = form.summary_items()
        page = None
        if not form.is_bound or form.is_valid():
            page = selectors.audit_trail(
                self.request.user,
                filters,
                before=_sequence(self.request.GET.get("before")),
                after=_sequence(self.request.GET.get("after")),
            )
        query = self.request.GET.copy()
        query.pop("before", None)
        query.pop("after", None)
        return super().get_context_data(
            form=form,
            page=page,
            filtered=filters != selectors.AuditFilters(),
            query=query.urlencode(),
            **context,
            **kwargs,
        )


def _sequence(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


class VerifyView(BoardMemberMixin, LoginRequiredMixin, View):
    """Run the chain check of the whole ledger, or of one cycle, and show the verdict."""

    template_name = "web/governance/verify.html"

    def get(self, request: HttpRequest, cycle_id: int | None = None) -> HttpResponse:
        return self.render(request, cycle_id, verdict=None)

    def post(self, request: HttpRequest, cycle_id: int | None = None) -> HttpResponse:
        cycle = self.audited_cycle(cycle_id)
        verdict = selectors.ledger_verdict(request.user, cycle)
        return self.render(request, cycle_id, verdict=verdict)

    def audited_cycle(self, cycle_id: int | None) -> CommissioningCycle | None:
        self.organisations  # noqa: B018 - board members only
        if cycle_id is None:
            return None
        cycle = (
            selectors.cycles_audited_by(self.request.user)
            .select_related("organisation")
            .filter(pk=cycle_id)
            .first()
        )
        if cycle is None:
            raise Http404("No such cycle")
        return cycle

    def render(
        self, request: HttpRequest, cycle_id: int | None, verdict: selectors.LedgerVerdict | None
    ) -> HttpResponse:
        cycle = self.audited_cycle(cycle_id)
        context: dict[str, Any] = {"cycle": cycle, "verdict": verdict, "checked_at": None}
        if verdict is not None:
            context["checked_at"] = timezone.now()
            if not verdict.ok:
                context["error_summary"] = [SummaryItem(verdict.problem)]
                context["error_title"] = "The ledger does not verify"
        return TemplateResponse(request, self.template_name, context)


# Downloads


class ReportView(BoardMemberMixin, Page):
    """The report on involvement: choose the organisation, the period and the format."""

    template_name = "web/governance/report.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.organisations  # noqa: B018 - board members only
        form = ReportForm(
            request.GET if "format" in request.GET else None,
            organisations=selectors.organisations_overseen_by(request.user),
        )
        if form.is_bound and form.is_valid():
            download = self.download(form.cleaned_data)
            if isinstance(download, HttpResponse):
                return download
            form.add_error(None, download)
        context = self.get_context_data(form=form, **kwargs)
        if form.is_bound and form.errors:
            context["error_summary"] = form.summary_items()
        return self.render_to_response(context)

    def download(self, data: dict[str, Any]) -> HttpResponse | str:
        """The report as a file to save, or why it cannot be made."""
        organisation = data["organisation"]
        report = involvement_report(organisation, data["period_from"], data["period_to"])
        name = (
            f"involvement-{slugify(organisation.name)}-"
            f"{data['period_from']:%Y%m%d}-{data['period_to']:%Y%m%d}"
        )
        fmt = data["format"]
        if fmt == "pdf":
            try:
                content: bytes | str = render_pdf(report)
            except ReportUnavailable as error:
                return str(error)
            content_type = "application/pdf"
        elif fmt == "csv":
            content, content_type = render_csv(report), "text/csv; charset=utf-8"
        else:
            content, content_type = render_html(report), "text/html; charset=utf-8"
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response


class LedgerExportView(AuditedCycleMixin, LoginRequiredMixin, View):
    """A cycle's events as ``audit export --cycle`` writes them, to verify anywhere with
    ``python -m cycle.verify_export FILE --cycle``."""

    def get(self, request: HttpRequest, cycle_id: int, fmt: str) -> HttpResponseBase:
        cycle = self.cycle
        head_seq, _ = ledger.head()
        records = ledger.iter_records(AuditEvent.objects.filter(cycle=cycle, seq__lte=head_seq))
        if fmt == "csv":
            lines: Iterator[str] = _csv_lines(records)
            content_type = "text/csv; charset=utf-8"
        else:
            lines = (chain.jsonl_line(record) for record in records)
            content_type = "application/jsonl; charset=utf-8"
        response = StreamingHttpResponse(lines, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="cycle-{cycle.pk}-ledger.{fmt}"'
        return response


def _csv_lines(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(chain.EXPORT_FIELDS)
    for record in records:
        writer.writerow(chain.csv_row(record))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
