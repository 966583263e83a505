"""The escalation policy: which invoice reaches which step today, and why. Pure functions.

:mod:`.ladder` decides per invoice, :mod:`.planner` per debtor and channel, :mod:`.pauses` what a
promise, arrangement, dispute or manual pause means today, :mod:`.conditions` whether a step
applies, :mod:`.steps` holds the policy's view of the configuration.
"""

from dunning.core.policy.conditions import DebtorFacts
from dunning.core.policy.ladder import Decision, Position, decide, position, step_dates
from dunning.core.policy.planner import plan_due_actions, template_for
from dunning.core.policy.steps import Conditions, DebtorSettings, Discount, Rules, Step

__all__ = [
    "Conditions",
    "DebtorFacts",
    "DebtorSettings",
    "Decision",
    "Discount",
    "Position",
    "Rules",
    "Step",
    "decide",
    "plan_due_actions",
    "position",
    "step_dates",
    "template_for",
]
