"""The self-assessment tool (seed 001, Appendix I): eight stages of the commissioning cycle, each
scored 1 to 5 against the tool's own descriptors, and the score the system's records suggest.

The tool asks that a score of 3 or more cite examples (001:L949); the guide's authors found that
unevidenced scores were "gut feel" (001:L161). So a board's score of :data:`EVIDENCE_FROM` or more
needs evidence that points at records the system holds, and beside it the system proposes a score
from those records (:func:`propose`), saying line by line what it counted and why.

Pure: plain values in, plain values out; the counting of records is ``cycle.duty_selectors``'.
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import gettext_lazy as _
from .i18n import ngettext_lazy

EVIDENCE_FROM = 3
"""A score of this or more needs evidence that links to records (001:L949)."""


@dataclass(frozen=True)
class Dimension:
    key: str
    number: int
    name: str
    note: str = ""
    line: int = 0
    """The line of seed 001 the stage's heading is on."""


_ENGAGEMENT_NOTE = "It is at this stage where public and user engagement will often take place."

DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("assessing-needs", 1, "Assessing needs", line=961),
    Dimension("review-provision", 2, "Review current service provision", line=969),
    Dimension("outcomes", 3, "Specify and agree quality outcomes", _ENGAGEMENT_NOTE, 978),
    Dimension("design", 4, "Design services and pathways", _ENGAGEMENT_NOTE, 989),
    Dimension(
        "contract", 5, "Contract with providers; shape structure and supply", _ENGAGEMENT_NOTE, 998
    ),
    Dimension(
        "demand", 6, "Manage demand and ensure appropriate access to care", _ENGAGEMENT_NOTE, 1007
    ),
    Dimension("clinical-decisions", 7, "Clinical decision making", _ENGAGEMENT_NOTE, 1016),
    Dimension("quality", 8, "Manage quality, performance and outcomes", line=1025),
)
DIMENSION_KEYS = tuple(d.key for d in DIMENSIONS)
BY_KEY = {d.key: d for d in DIMENSIONS}

LEVELS: dict[int, str] = {
    1: "Indicates you never involve service users and carers at this stage because you have not "
    "found the appropriate approaches.",
    2: "Indicates you have involved service users and carers at this stage and it was difficult "
    "to measure how successful it was.",
    3: "You have made significant progress in some areas of the commissioning cycle and that you "
    "are beginning to see the rewards of the approach you have adopted.",
    4: "You involve carers and users at most stages of the cycle and you simply have to transfer "
    "this to all stages. You are seeing and can evidence that your practices are proving "
    "successful.",
    5: "You involve carers and service users at every stage of the cycle, you see huge benefits "
    "from this and you have evidence that your practices are proving successful. You are seeing "
    "a tangible improvement in the quality of your services and can evidence this.",
}
"""The tool's descriptors, word for word as its tables give them (001:L963-967)."""

STAGE_DIMENSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "default": {
        "framework": (),
        "needs": ("assessing-needs",),
        "review": ("review-provision",),
        "priorities": ("demand",),
        "design": ("outcomes", "design"),
        "procurement": ("contract",),
        "decision": ("contract",),
        "implementation": ("demand",),
        "monitoring": ("quality",),
    },
    "guide": {
        "assess-needs": ("assessing-needs",),
        "review-services": ("review-provision",),
        "risk": ("demand",),
        "priorities": ("demand",),
        "strategic-plan": ("outcomes",),
        "contract": ("contract",),
        "provider-development": ("design",),
        "provider-performance": ("quality",),
        "revisit": ("quality",),
    },
    "self-assessment": {
        "assessing-needs": ("assessing-needs",),
        "review-provision": ("review-provision",),
        "outcomes": ("outcomes",),
        "design": ("design",),
        "contract": ("contract",),
        "demand": ("demand",),
        "clinical-decisions": ("clinical-decisions",),
        "quality": ("quality",),
    },
}
"""Which of the tool's stages each stage of each template counts towards. The framework stage
agrees how users are involved; it is about every stage, so it counts towards none."""


def dimensions_of(template_key: str, stage_key: str) -> tuple[str, ...]:
    """The tool's stages a stage of a template counts towards (none for an unknown one)."""
    return STAGE_DIMENSIONS.get(template_key, {}).get(stage_key, ())


@dataclass(frozen=True)
class DimensionFacts:
    """What the records of an organisation's cycles say about one of the tool's stages."""

    cycles_reached: int = 0
    """Cycles that have been at a stage counting towards it."""
    cycles_involved: int = 0
    """Of those, cycles with users' sign-off, input or a consultation at such a stage."""
    attestations: int = 0
    dissents: int = 0
    inputs: int = 0
    inputs_we_did: int = 0
    inputs_unanswered: int = 0
    consultations: int = 0
    consultations_considered: int = 0

    @property
    def results(self) -> int:
        """Records of what came of involvement: "we did" answers, considered consultations."""
        return self.inputs_we_did + self.consultations_considered


@dataclass(frozen=True)
class Proposal:
    score: int | None
    """None when no cycle has reached the stage: the records cannot speak for it."""
    lines: tuple[str, ...]


def propose(facts: DimensionFacts) -> Proposal:
    """The score the records suggest for one stage of the tool, and why, line by line.

    Level 1: no record of users involved. Level 2: users involved, but nothing on record of what
    came of it. Level 3: something came of it, in half the cycles or fewer, or with input still
    unanswered. Level 4: users involved in most cycles, something came of it and every input was
    answered. Never 5: the records cannot show the tangible improvement in services it needs.
    """
    if facts.cycles_reached == 0:
        return Proposal(
            None,
            (
                _(
                    "No cycle of the organisation has been at a stage of this kind yet, so its "
                    "records suggest no score."
                ),
            ),
        )
    lines: list[str] = [
        ngettext_lazy(
            "%(count)d cycle reached this stage; users were involved on the record in "
            "%(involved)d of them (a sign-off, input or a consultation).",
            "%(count)d cycles reached this stage; users were involved on the record in "
            "%(involved)d of them (a sign-off, input or a consultation).",
            facts.cycles_reached,
            count=facts.cycles_reached,
            involved=facts.cycles_involved,
        ),
        _(
            "%(attestations)s that users were involved as agreed, and %(dissents)s.",
            attestations=ngettext_lazy(
                "%(count)d sign-off",
                "%(count)d sign-offs",
                facts.attestations,
                count=facts.attestations,
            ),
            dissents=ngettext_lazy(
                "%(count)d dissent", "%(count)d dissents", facts.dissents, count=facts.dissents
            ),
        ),
        ngettext_lazy(
            "%(count)d piece of input from users: %(we_did)d answered “we did”, %(unanswered)d "
            "not answered yet.",
            "%(count)d pieces of input from users: %(we_did)d answered “we did”, "
            "%(unanswered)d not answered yet.",
            facts.inputs,
            count=facts.inputs,
            we_did=facts.inputs_we_did,
            unanswered=facts.inputs_unanswered,
        ),
        ngettext_lazy(
            "%(count)d consultation, %(considered)d with the responses analysed and how they "
            "were considered recorded.",
            "%(count)d consultations, %(considered)d with the responses analysed and how they "
            "were considered recorded.",
            facts.consultations,
            count=facts.consultations,
            considered=facts.consultations_considered,
        ),
    ]
    if facts.cycles_involved == 0:
        lines.append(_("No record shows users involved at this stage: level 1."))
        return Proposal(1, tuple(lines))
    if facts.results == 0:
        lines.append(
            _(
                "Users were involved, but no record shows what came of it (no input answered “we "
                "did”, no consultation's responses considered): level 2."
            )
        )
        return Proposal(2, tuple(lines))
    records = ngettext_lazy(
        "%(count)d record", "%(count)d records", facts.results, count=facts.results
    )
    most = facts.cycles_involved * 2 > facts.cycles_reached
    if not most or facts.inputs_unanswered:
        why = (
            _(
                "in only %(involved)d of %(reached)d cycles",
                involved=facts.cycles_involved,
                reached=facts.cycles_reached,
            )
            if not most
            else ngettext_lazy(
                "but %(count)d piece of input not answered yet",
                "but %(count)d pieces of input not answered yet",
                facts.inputs_unanswered,
                count=facts.inputs_unanswered,
            )
        )
        lines.append(
            _(
                "Something came of involvement (%(records)s of it), %(why)s: level 3.",
                records=records,
                why=why,
            )
        )
        return Proposal(3, tuple(lines))
    lines.append(
        _(
            "Users were involved in %(involved)d of %(reached)d cycles, something came of it "
            "(%(records)s) and every input was answered: level 4.",
            involved=facts.cycles_involved,
            reached=facts.cycles_reached,
            records=records,
        )
    )
    lines.append(
        _(
            "Not level 5: the records cannot show a tangible improvement in the quality of "
            "services. That is for the board's own evidence."
        )
    )
    return Proposal(4, tuple(lines))
