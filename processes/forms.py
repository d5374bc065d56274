"""Forms of the commissioning flow's task pages. They collect input; they decide nothing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class StageTaskForm(forms.Form):
    """What the lead commissioner wants to do with the current stage."""

    ADVANCE = "advance"
    REOPEN = "reopen"
    REQUEST_SIGNOFF = "request_signoff"

    action = forms.ChoiceField(
        label=_("What do you want to do?"),
        choices=[
            (ADVANCE, _("Advance through the involvement gate to the next stage")),
            (REOPEN, _("Reopen an earlier stage")),
            (REQUEST_SIGNOFF, _("Ask the panel for sign-off (new members get a task)")),
        ],
        widget=forms.RadioSelect,
    )
    stage = forms.ChoiceField(label=_("Stage to reopen"), required=False, choices=())
    reason = forms.CharField(
        label=_("Why reopen it?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The panel sees this reason."),
    )

    def __init__(self, *args: Any, earlier_stages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stage = self.fields["stage"]
        assert isinstance(stage, forms.ChoiceField)
        stage.choices = [("", _("(choose a stage)")), *earlier_stages]


class SignOffTaskForm(forms.Form):
    """A representative's position on the stage: attestation or dissent."""

    ATTEST = "attest"
    DISSENT = "dissent"

    acknowledge = forms.BooleanField(
        label=_("I have read the role boundaries for this stage and acknowledge them"),
        required=False,
    )
    position = forms.ChoiceField(
        label=_("Your sign-off"),
        choices=[
            (
                ATTEST,
                _(
                    "I attest that we were involved on the agreed terms and told the budget "
                    "as recorded"
                ),
            ),
            (DISSENT, _("I dissent: we were not involved as agreed")),
        ],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("Reasons for dissent"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only for dissent. Disagreeing with a decision is not dissent: give it as input."
        ),
    )
