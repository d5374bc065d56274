"""The words, names and weights the generated stories draw on."""

from __future__ import annotations

import random
from typing import Any

from cycle import duty


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Aaliyah Abdi Ada Aisha Alan Amir Anita Beatrice Bilal Carol Chen Chidi Colin Daniel "
    "Deborah Dev Doreen Eileen Emeka Farah Fatima Frank Gareth Gloria Grace Hamid Harriet Helen "
    "Ifeoma Imran Iris Jack Janet Joan Joseph Kamala Kevin Kirsty Leon Linda Lorraine Malik "
    "Margaret Marcus Maria Michael Nadia Neil Niamh Olu Owen Patrick Pauline Priya Rajesh "
    "Rhiannon Rosa Ruth Sahra Samuel Sandra Sean Sunita Tariq Tom Trevor Una Victor Wanjiru "
    "Yusuf Zainab"
)
LAST_NAMES = _words(
    "Adams Adeyemi Ahmed Ali Ashby Baxter Begum Bell Brennan Chauhan Chu Clarke Davies Dobson "
    "Egal Ellis Evans Fairclough Farah Fenwick Foster Gallagher Grant Hassan Heath Holt Hughes "
    "Hussain Jama Jones Kaur Kaye Khan Kowalski Lamb Lowe Marsden Marsh Mensah Murphy Nair Nur "
    "Nuttall O'Neill Okafor Okoye Osei Patel Pike Pritchard Quinn Rahman Rao Roberts Rowe Royce "
    "Shah Sharma Sheikh Singh Smith Taylor Thomas Walsh Warsame Whitfield Williams Wilson "
    "Wright Yilmaz"
)
PLACES = _words(
    "Ashvale Barrowmere Brookfield Calderbridge Castleford Deanhurst Eastmere Fairholme "
    "Glenmoor Hallbrook Harrowgate Ingleby Kingsford Langdale Marshfield Northvale Oakhampton "
    "Pendlebury Queensbury Riverside Rowanbury Southmoor Thornbury Upperton Wexcombe Westbrook "
    "Whitcliffe Wolverdale Yarrowby"
)
ORGANISATION_KINDS = (
    "Integrated Care Board",
    "Borough Council",
    "City Council",
    "County Council",
    "Primary Care Trust",
    "Health and Social Care Partnership",
)
SERVICE_AREAS = (
    "Community mental health",
    "Mental health day and vocational services",
    "Stroke rehabilitation",
    "Carers' support",
    "Learning disability day opportunities",
    "Musculoskeletal physiotherapy",
    "Home care",
    "Dementia support",
    "Diabetes care",
    "Drug and alcohol services",
    "Children's speech and language therapy",
    "Falls prevention",
    "End of life care",
    "Wheelchair services",
    "Community meals",
    "Sexual health",
    "Podiatry",
    "Community nursing",
    "Advocacy",
    "Dermatology",
    "Hearing services",
    "Pulmonary rehabilitation",
)
CYCLE_KINDS = (
    "re-commissioning",
    "service review",
    "redesign",
    "tender",
    "pathway redesign",
    "decommissioning review",
)
REPRESENTS = (
    "People who use the service",
    "Carers",
    "People waiting for the service",
    "Young adults",
    "Older people",
    "People from black and minority ethnic communities",
    "Disabled people",
    "People in work",
    "The local user forum",
    "Healthwatch",
    "People in rural areas",
    "People who have left the service",
)
DECIDERS = (
    "The ICB board decides, on the commissioner's recommendation.",
    "The council's cabinet member decides, on the commissioner's recommendation.",
    "Senior management gives final approval and may veto.",
    "The joint commissioning board decides.",
    "The director of commissioning decides under delegated authority.",
)
PROPOSALS = (
    "Re-commission the service across the area, with a tender where appropriate.",
    "Move the clinic to a new community site with longer opening hours.",
    "Bring two services together into one pathway.",
    "Change the provider when the contract ends; the service stays as it is.",
)
DUTY_QUESTIONS = (
    duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.PLANNING),
    duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.PROPOSALS, affects_delivery=True),
    duty.DutyQuestions(
        duty.BodyType.NHS_TRUST, duty.Activity.DECISION, affects_range=True, substantial=True
    ),
    duty.DutyQuestions(duty.BodyType.ICB, duty.Activity.CONTRACTUAL),
    duty.DutyQuestions(duty.BodyType.LOCAL_AUTHORITY, duty.Activity.PLANNING),
)
"""Duty assessments the generated commissioners record, one of each kind of result."""
WITHHELD = (
    "Contract values are commercially confidential while the tender is open.",
    "The budget depends on the annual budget round, which has not yet concluded.",
    "The pooled budget is still being agreed between the partners.",
)
CONSTRAINTS = (
    "Recurrent funding; no growth this year.",
    "Includes a savings target agreed in the budget round.",
    "Pooled between health and social care under a section 75 agreement.",
    "Capital is not included; revenue only.",
)
CUT_REASONS = (
    "Cut in the budget round after the panel signed off.",
    "In-year savings required by the finance committee.",
    "Reduced after a partner withdrew its contribution.",
)
RISE_REASONS = (
    "Increased after the service was made a local priority.",
    "Non-recurrent money added for the transition.",
)
DISSENTS = (
    "We were not involved as agreed: the papers came two days before the meeting.",
    "The options were fixed before we saw them; our role was to comment, not to influence.",
    "Nobody told us the budget had changed until after the decision meeting.",
    "The meeting was rushed and we could not prepare; we agreed without understanding.",
    "Expenses have not been paid for three months, so two of us could not attend.",
)
OVERRIDES = (
    "The contract end date cannot move; the dissent is recorded and goes to the next review.",
    "A safety issue in the current service requires the move now; the panel's concerns are noted.",
    "The dissent concerns a previous stage's papers; the board will review the process separately.",
)
LEAVING = (
    "Got a job and can no longer attend daytime meetings.",
    "Stepped down for health reasons.",
    "Moved out of the area.",
    "Stopped attending; did not reply to the involvement lead.",
    "Felt the group was not listened to.",
)
REOPENING = (
    "The budget changed: the earlier stage must be revisited with the panel.",
    "New national guidance changes what is fixed and what can still be influenced.",
    "The needs assessment missed a group of users; it is reopened to reach them.",
    "A change of political control means the priorities are reviewed again.",
)
INPUTS = (
    "Meetings in the daytime exclude people in work; could some be in the evening?",
    "The papers are full of jargon; please add a glossary.",
    "People want a named worker they can ring, not a call centre.",
    "Transport to the service is the biggest barrier for people in rural areas.",
    "The survey only reached people already using the service.",
    "Peer support should be part of the specification.",
    "Carers need a break while the person they care for attends.",
    "Information should be available in community languages.",
)
WE_DID = (
    "Added to the specification.",
    "Changed in the next draft and sent to the panel.",
    "Agreed; the provider must report on it every quarter.",
)
WE_COULD_NOT = (
    "Not affordable within the budget as disclosed.",
    "Outside what the commissioner can change: it is set nationally.",
    "The procurement rules do not allow it at this stage.",
)
DECISIONS = (
    "Priorities agreed for the next stage.",
    "The preferred option is approved for the specification.",
    "The contract is awarded to the recommended bidder.",
    "No award: no bid met the quality threshold; the current service continues.",
    "The service specification is approved.",
    "The transition plan is approved.",
)
INFLUENCE_WEIGHTS = (("inform", 5), ("consult", 30), ("influence", 55), ("co-decide", 10))
DECISION_STAGE_HINTS = ("priorit", "decision", "contract", "outcomes", "strategic")
TEMPLATE_WEIGHTS = (("default", 80), ("guide", 10), ("self-assessment", 10))
PANEL_SIZE_WEIGHTS = tuple(zip(range(5, 15), (4, 8, 12, 14, 14, 12, 10, 8, 5, 3), strict=True))


def weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]
