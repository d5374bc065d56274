"""Stage templates: which stages a commissioning cycle passes through, and in what order.

Stage order lives here and nowhere else. A cycle stores the key of its template and the key of its
current stage; services ask the template what comes next. Each stage names the extra gate
conditions that hold when leaving it (``exit_requires``) and when entering it (``entry_requires``,
checked by the gate of the stage before it), on top of the three that hold at every gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .gates import Condition

WORKING_AGREEMENT = Condition.WORKING_AGREEMENT
INVOLVEMENT_LEAD = Condition.INVOLVEMENT_LEAD
CONFLICTS_DECLARED = Condition.CONFLICTS_DECLARED
INPUT_ANSWERED = Condition.INPUT_ANSWERED
DECISION_PAPERS = Condition.DECISION_PAPERS
DUTY_ASSESSED = Condition.DUTY_ASSESSED
AWARD_SETTLED = Condition.AWARD_SETTLED
EVALUATION_SIGNED = Condition.EVALUATION_SIGNED


@dataclass(frozen=True)
class StageDefinition:
    key: str
    name: str
    summary: str
    sources: tuple[str, ...] = ()
    exit_requires: frozenset[Condition] = field(default_factory=frozenset)
    entry_requires: frozenset[Condition] = field(default_factory=frozenset)
    decides: bool = False
    """The decision-maker records a decision in this stage (drawn in its own lane, see
    ``processes.bpmn``). The gate does not wait for it: users' sign-off is never approval."""


@dataclass(frozen=True)
class StageTemplate:
    key: str
    name: str
    stages: tuple[StageDefinition, ...]

    def __post_init__(self) -> None:
        keys = [stage.key for stage in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError(f"template {self.key!r} repeats a stage key")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(stage.key for stage in self.stages)

    def first(self) -> StageDefinition:
        return self.stages[0]

    def get(self, key: str) -> StageDefinition:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)

    def position(self, key: str) -> int:
        """1-based position of a stage in this template."""
        return self.keys.index(key) + 1

    def next_after(self, key: str) -> StageDefinition | None:
        index = self.keys.index(key)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    def gate_requires(self, key: str) -> frozenset[Condition]:
        """Extra conditions for the gate at the end of ``key``: its own and the next stage's."""
        stage = self.get(key)
        following = self.next_after(key)
        return stage.exit_requires | (following.entry_requires if following else frozenset())


@dataclass(frozen=True)
class StageState:
    """Where a cycle stands with one stage, for the live diagram."""

    PASSED = "passed"
    CURRENT = "current"
    OVERRIDDEN = "overridden"
    NOT_REACHED = "not_reached"

    stage_key: str
    state: str
    gate_open: bool | None = None
    """For the current stage: whether every condition of its gate holds."""
    unmet: tuple[str, ...] = ()
    """For the current stage, the unmet codes; for an overridden one, those the override named."""
    override_stands: bool = False
    """For the current stage: an override stands, so it may be left although the gate is closed."""
    visits: int = 0


def _stage(
    key: str,
    name: str,
    summary: str,
    *sources: str,
    decides: bool = False,
    **requires: frozenset[Condition],
) -> StageDefinition:
    return StageDefinition(
        key=key, name=name, summary=summary, sources=sources, decides=decides, **requires
    )


DEFAULT = StageTemplate(
    key="default",
    name="Commissioning cycle (nine stages)",
    stages=(
        _stage(
            "framework",
            "Agree the involvement framework",
            "Who is involved, how, with what support; the working agreement and a named lead.",
            "003:L1061",
            "004:L214",
            "001:L613",
            exit_requires=frozenset({WORKING_AGREEMENT, INVOLVEMENT_LEAD}),
        ),
        _stage(
            "needs",
            "Assess needs and operating context",
            "Needs of the population and the context commissioners work in; whether the duty to "
            "involve applies.",
            "001:L240",
            "003:L1077",
            "003:L1089",
            "002:L612",
            exit_requires=frozenset({DUTY_ASSESSED}),
        ),
        _stage(
            "review",
            "Review current services",
            "Map existing services, gaps and opportunities.",
            "001:L246",
            "004:L342",
        ),
        _stage(
            "priorities",
            "Decide priorities and strategy",
            "Risks, priorities and the strategic plan, tested with users.",
            "001:L251",
            "003:L1160",
        ),
        _stage(
            "design",
            "Specify outcomes and design services",
            "Outcomes, service specification and options appraisal shaped by users.",
            "001:L978",
            "004:L647",
        ),
        _stage(
            "procurement",
            "Procurement",
            "Tender or selection of providers, with users assessing bids.",
            "003:L1146",
            "004:L585",
            "002:L511",
            entry_requires=frozenset({CONFLICTS_DECLARED}),
        ),
        _stage(
            "decision",
            "Decision and contract award",
            "The decision-maker decides; users' influence is recorded, not their veto.",
            "003:L1130",
            "001:L267",
            "001:L705",
            decides=True,
            exit_requires=frozenset({DECISION_PAPERS, AWARD_SETTLED, EVALUATION_SIGNED}),
        ),
        _stage(
            "implementation",
            "Implementation and provider development",
            "Transition to new providers and their development.",
            "001:L272",
            "004:L772",
        ),
        _stage(
            "monitoring",
            "Monitor performance and review with users",
            "Review with users, and tell them what became of their input.",
            "001:L278",
            "003:L1152",
            exit_requires=frozenset({INPUT_ANSWERED}),
        ),
    ),
)

GUIDE_NINE_STEPS = StageTemplate(
    key="guide",
    name="The guide's nine steps (Engagement in the commissioning cycle)",
    stages=(
        _stage(
            "assess-needs",
            "Assess needs",
            "Talk to stakeholders first; whole-population need.",
            "001:L240",
            exit_requires=frozenset({WORKING_AGREEMENT, INVOLVEMENT_LEAD}),
        ),
        _stage(
            "review-services",
            "Review current services and opportunities",
            "Existing services, gaps.",
            "001:L246",
        ),
        _stage(
            "risk",
            "Risk management",
            "Key health and care risks and a strategy for them.",
            "001:L251",
        ),
        _stage(
            "priorities",
            "Decide priorities",
            "Evidence, cost comparisons, priorities.",
            "001:L256",
            decides=True,
        ),
        _stage(
            "strategic-plan",
            "Strategic planning",
            "One strategic plan with action points.",
            "001:L262",
        ),
        _stage(
            "contract",
            "Implement contract",
            "Contract providers to deliver the plan.",
            "001:L267",
            decides=True,
            entry_requires=frozenset({CONFLICTS_DECLARED}),
            exit_requires=frozenset({AWARD_SETTLED, EVALUATION_SIGNED}),
        ),
        _stage(
            "provider-development",
            "Provider development",
            "Redesign pathways; develop, introduce or de-commission providers.",
            "001:L272",
        ),
        _stage(
            "provider-performance",
            "Manage provider performance",
            "Performance and quality against contracts and indicators.",
            "001:L278",
        ),
        _stage(
            "revisit",
            "Revisit the stakeholders",
            "Check it fits; users feel valued; money not wasted.",
            "001:L284",
            exit_requires=frozenset({INPUT_ANSWERED}),
        ),
    ),
)

SELF_ASSESSMENT_EIGHT = StageTemplate(
    key="self-assessment",
    name="The self-assessment tool's eight stages",
    stages=(
        _stage(
            "assessing-needs",
            "Assessing needs",
            "",
            "001:L961",
            exit_requires=frozenset({WORKING_AGREEMENT, INVOLVEMENT_LEAD}),
        ),
        _stage("review-provision", "Review current service provision", "", "001:L970"),
        _stage("outcomes", "Specify and agree quality outcomes", "", "001:L978"),
        _stage("design", "Design services and pathways", "", "001:L989"),
        _stage(
            "contract",
            "Contract with providers; shape structure and supply",
            "",
            "001:L998",
            decides=True,
            entry_requires=frozenset({CONFLICTS_DECLARED}),
            exit_requires=frozenset({AWARD_SETTLED, EVALUATION_SIGNED}),
        ),
        _stage("demand", "Manage demand and ensure appropriate access to care", "", "001:L1007"),
        _stage("clinical-decisions", "Clinical decision making", "", "001:L1016"),
        _stage(
            "quality",
            "Manage quality, performance and outcomes",
            "",
            "001:L1025",
            exit_requires=frozenset({INPUT_ANSWERED}),
        ),
    ),
)

TEMPLATES: dict[str, StageTemplate] = {
    template.key: template for template in (DEFAULT, GUIDE_NINE_STEPS, SELF_ASSESSMENT_EIGHT)
}


def get_template(key: str) -> StageTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise KeyError(f"unknown stage template {key!r}; known: {', '.join(TEMPLATES)}") from None
