"""The self-assessment through the governance pages: the board member scores each stage, a score of
3 or more without a record is refused on the form, the records' suggestion is explained line by
line beside the board's score, and assessments are compared over time in a chart with its table."""

from __future__ import annotations

from typing import Any

from cycle import self_assessment
from cycle.models import SelfAssessment, SignOff
from tests.web.pages import h1_count
from tests.web.test_query_counts import measured

GOVERNOR = "david.achebe"


def _organisation(demo: dict[str, Any]) -> Any:
    return demo["day-services"].organisation


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"assessed_on": "02/03/2026", "contact_name": "David Achebe"}
    for key in self_assessment.DIMENSION_KEYS:
        data[f"{key}-score"] = "2"
    data.update(changes)
    return data


def test_a_score_of_three_without_a_record_is_refused_with_the_stage_in_the_error_summary(
    demo, client_as
):
    organisation = _organisation(demo)
    url = f"/governance/organisations/{organisation.pk}/self-assessment/record/"
    response = client_as(GOVERNOR).post(
        url, _form(**{"design-score": "3", "design-comments": "We co-design everything."})
    )
    page = response.content.decode()
    assert response.status_code == 200 and h1_count(response) == 1
    assert "nhsuk-error-summary" in page
    assert "Design services and pathways: a score of 3 needs at least one record." in page
    assert 'href="#id_design-evidence_0"' in page
    assert not SelfAssessment.objects.filter(organisation=organisation).exists()


def test_the_board_records_a_score_with_a_record_and_reads_it_beside_the_records_suggestion(
    demo, client_as
):
    organisation = _organisation(demo)
    client = client_as(GOVERNOR)
    signoff = SignOff.objects.filter(
        cycle=demo["day-services"], visit__stage_key="needs", kind="attest"
    ).first()
    assert signoff is not None
    form_page = client.get(f"/governance/organisations/{organisation.pk}/self-assessment/record/")
    assert f'value="signoff:{signoff.pk}"' in form_page.content.decode()
    assert "The records suggest: level 2" in form_page.content.decode()

    recorded = client.post(
        f"/governance/organisations/{organisation.pk}/self-assessment/record/",
        _form(
            **{
                "assessing-needs-score": "4",
                "assessing-needs-evidence": [f"signoff:{signoff.pk}"],
            }
        ),
        follow=True,
    )
    page = recorded.content.decode()
    assert "You recorded self-assessment 1" in page
    assert 'data-stage="assessing-needs"' in page and 'data-score="4"' in page
    assert "8 sign-offs that users were involved as agreed, and 0 dissents." in page
    assert "Users were involved, but no record shows what came of it" in page
    # The chart and the table beside it.
    assert 'role="img"' in page and "The numbers in the chart" in page
    assert "1. Assessing needs, 02 Mar 2026" in page


def test_assessments_are_compared_over_time(demo, client_as):
    organisation = _organisation(demo)
    client = client_as(GOVERNOR)
    url = f"/governance/organisations/{organisation.pk}/self-assessment/record/"
    client.post(url, _form(assessed_on="02/03/2026"))
    client.post(url, _form(assessed_on="01/09/2026", **{"quality-score": "1"}))

    page = client.get(f"/governance/organisations/{organisation.pk}/self-assessment/")
    text = page.content.decode()
    chart = page.context["chart"]
    labels = [row[0] for row in chart.rows]
    assert "8. Manage quality, performance and outcomes, 02 Mar 2026" in labels
    assert "8. Manage quality, performance and outcomes, 01 Sep 2026" in labels
    assert (
        dict((row[0], row[1]) for row in chart.rows)[
            "8. Manage quality, performance and outcomes, 01 Sep 2026"
        ]
        == "1"
    )
    assert "The latest, 1 September 2026" in text


def test_an_organisation_the_board_does_not_oversee_is_not_found(demo, client_as):
    other = demo["meals-on-wheels"].organisation
    for path in ("", "record/"):
        response = client_as(GOVERNOR).get(
            f"/governance/organisations/{other.pk}/self-assessment/{path}"
        )
        assert response.status_code == 404
    assert (
        client_as("gillian.marsh")
        .get(f"/governance/organisations/{_organisation(demo).pk}/self-assessment/")
        .status_code
        == 404
    )


def _more_assessments(organisation: Any, client: Any) -> Any:
    def more() -> None:
        for day in ("02/03/2026", "01/06/2026"):
            client.post(
                f"/governance/organisations/{organisation.pk}/self-assessment/record/",
                _form(assessed_on=day),
            )

    return more


def test_the_pages_cost_the_same_however_many_assessments_there_are(demo, client_as):
    organisation = _organisation(demo)
    client = client_as(GOVERNOR)
    for path in ("", "record/"):
        before, after = measured(
            f"self-assessment/{path}",
            client,
            f"/governance/organisations/{organisation.pk}/self-assessment/{path}",
            _more_assessments(organisation, client),
        )
        assert after == before
