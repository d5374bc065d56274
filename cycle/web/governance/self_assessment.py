"""The self-assessment pages of a governance board member (seed 001, Appendix I).

- an organisation's self-assessments: the latest scores beside what the records suggest, each
  suggestion explained line by line, and the scores compared over time in a chart with its table;
- recording a new one: each of the tool's eight stages scored 1 to 5 against its descriptors, with
  the records a score cites (``cycle.duty_services.self_assessment_record``, which refuses a score
  of 3 or more that cites none).

Only organisations the board member oversees are reachable; any other is "not found".
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property

from cycle import duty_selectors, duty_services
from cycle.self_assessment import DIMENSIONS, EVIDENCE_FROM, LEVELS

from ..forms import PageForm
from ..views.base import Page, ServiceFormView
from .charts import BLUE, Bar, Chart, Series
from .views import BoardMemberMixin

CHART_ASSESSMENTS = 4
"""The chart compares the latest this many assessments."""


class OrganisationMixin(BoardMemberMixin):
    kwargs: dict[str, Any]

    @cached_property
    def organisation(self) -> Any:
        for organisation in self.organisations:
            if organisation.pk == self.kwargs["organisation_id"]:
                return organisation
        raise Http404("No such organisation")


def history_chart(assessments: list[Any], slug: str) -> Chart:
    """The board's score for each stage of the tool in each of the latest assessments."""
    latest = assessments[-CHART_ASSESSMENTS:]
    bars = []
    for dimension in DIMENSIONS:
        for assessment in latest:
            score = next(
                (s.score for s in assessment.scores.all() if s.dimension == dimension.key), 0
            )
            bars.append(
                Bar(
                    f"{dimension.number}. {dimension.name}, {assessment.assessed_on:%d %b %Y}",
                    (float(score),),
                )
            )
    if latest:
        days = [f"{a.assessed_on.day} {a.assessed_on:%B %Y}" for a in latest]
        dates = days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]
        description = (
            f"The board's score, 1 to 5, for each of the eight stages in the "
            f"{'assessment' if len(days) == 1 else 'assessments'} of "
            f"{dates}: one bar for each stage in each assessment, oldest first."
        )
    else:
        description = "No self-assessment has been recorded yet."
    return Chart(
        slug=slug,
        title="The board's scores over time",
        description=description,
        label_heading="Stage and assessment",
        series=(Series("Board's score", BLUE),),
        bars=tuple(bars) if latest else (),
    )


class SelfAssessmentView(OrganisationMixin, Page):
    template_name = "web/governance/self_assessment.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        organisation = self.organisation
        assessments = list(duty_selectors.self_assessments(organisation.pk))
        proposals = duty_selectors.self_assessment_proposals(organisation.pk)
        latest = assessments[-1] if assessments else None
        scored = {s.dimension: s for s in latest.scores.all()} if latest else {}
        rows = [
            {
                "dimension": dimension,
                "score": scored.get(dimension.key),
                "proposal": proposals[dimension.key],
            }
            for dimension in DIMENSIONS
        ]
        return super().get_context_data(
            organisation=organisation,
            latest=latest,
            rows=rows,
            assessments=list(reversed(assessments)),
            chart=history_chart(assessments, f"self-assessment-{organisation.pk}"),
            levels=LEVELS,
            **kwargs,
        )


class SelfAssessmentForm(PageForm):
    assessed_on = forms.DateField(
        label="Date of the assessment",
        help_text="For example, 02/03/2026",
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"width": "10", "inputmode": "numeric"}),
        error_messages={
            "required": "Enter the date of the assessment",
            "invalid": "Enter a real date, like 02/03/2026",
        },
    )
    contact_name = forms.CharField(label="Contact name (optional)", max_length=200, required=False)

    def __init__(self, *args: Any, options: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = options or []
        for dimension in DIMENSIONS:
            key = dimension.key
            self.fields[f"{key}-score"] = forms.TypedChoiceField(
                label=f"Score for {dimension.name.lower()}",
                choices=[(str(n), f"{n}: {text}") for n, text in LEVELS.items()],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose a score for {dimension.name.lower()}"},
            )
            self.fields[f"{key}-comments"] = forms.CharField(
                label="Comments (optional)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            relevant = [o for o in options if key in o.dimensions] or options
            self.fields[f"{key}-evidence"] = forms.MultipleChoiceField(
                label="Records that show it",
                help_text=f"A score of {EVIDENCE_FROM} or more needs at least one.",
                choices=[(o.ref, o.label) for o in relevant],
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    def groups(self) -> list[dict[str, Any]]:
        return [
            {
                "dimension": dimension,
                "fields": [
                    self[f"{dimension.key}-{part}"] for part in ("score", "comments", "evidence")
                ],
            }
            for dimension in DIMENSIONS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for dimension in DIMENSIONS:
            score = data.get(f"{dimension.key}-score")
            if (
                isinstance(score, int)
                and score >= EVIDENCE_FROM
                and not data.get(f"{dimension.key}-evidence")
            ):
                self.add_error(
                    f"{dimension.key}-evidence",
                    ValidationError(
                        f"{dimension.name}: a score of {score} needs at least one record. "
                        "Comments alone are not evidence.",
                        code="self_assessment.no_evidence",
                    ),
                )
        return data

    def scores(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "dimension": d.key,
                "score": data[f"{d.key}-score"],
                "comments": data.get(f"{d.key}-comments", ""),
                "evidence": list(data.get(f"{d.key}-evidence", [])),
            }
            for d in DIMENSIONS
        ]


class SelfAssessmentRecordView(OrganisationMixin, ServiceFormView):
    template_name = "web/governance/self_assessment_form.html"
    form_class = SelfAssessmentForm
    submit_label = "Record the self-assessment"

    @cached_property
    def evidence(self) -> list[Any]:
        return duty_selectors.evidence_options(self.organisation.pk)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "options": self.evidence}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(organisation=self.organisation, **kwargs)
        proposals = duty_selectors.self_assessment_proposals(self.organisation.pk)
        context["groups"] = [
            {**group, "proposal": proposals[group["dimension"].key]}
            for group in context["form"].groups()
        ]
        return context

    def perform(self, form: SelfAssessmentForm) -> Any:
        return duty_services.self_assessment_record(
            actor=self.request.user,
            organisation_id=self.organisation.pk,
            scores=form.scores(),
            assessed_on=form.cleaned_data["assessed_on"],
            contact_name=form.cleaned_data.get("contact_name", ""),
        )

    def confirmation(self, result: Any) -> str:
        return f"You recorded self-assessment {result.version} of {self.organisation}."

    def get_success_url(self) -> str:
        return reverse("web:governance-self-assessment", args=[self.organisation.pk])
