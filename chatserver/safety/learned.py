"""Rules OR model: how the learned heads join the rule filters' verdicts.

The rules (``crisis.rule_verdict``, ``trauma.rule_verdict``) answer first: when they fire,
their verdict stands, with its specific reason code (``plan_or_method``,
``danger_from_others`` ...) that a listener reads. When they do not, the model
(``chatserver.safety.model``) gets its say:

- crisis: the message's own margin clears the threshold (``risk_language``), or it clears
  the lower context threshold right after a message that cleared the full one
  (``risk_after_recent``);
- trauma_dump (in ``trauma.TraumaDumpFilter``, reading the margins the crisis filter already
  cached): the margin clears the threshold (``graphic_detail``, as the rules say it).

Grouped cross-validation chose this OR (see ``docs/safety.md``): the rules keep their
precision and reasons, the model adds the phrasings no lexicon listed. Below threshold, the
verdict still carries a score (the larger of the rules' and the model's), so the classify
command can rank near misses.
"""

from __future__ import annotations

from chatserver.safety.base import ALLOW_VERDICT, Action, FilterInput, Verdict
from chatserver.safety.model import SafetyModel

__all__ = ["NOTICE_RISK", "SCORED_ALLOW", "below", "crisis_verdict"]

#: The model cannot tell "I might hurt myself" from "someone might hurt me", so its notice
#: speaks to both, gently.
NOTICE_RISK = (
    "Thank you for telling us. It sounds like things are really hard right now, and you don't "
    "have to face this alone. A listener has been asked to check in with you, and the people "
    "below can talk with you at any hour. If you are in danger and can do it safely, please "
    "call your local emergency number."
)
_CRISIS = frozenset({"crisis"})


#: ALLOW verdicts carrying a below-threshold score, one per hundredth, built once: a plain
#: message then allocates nothing here (and the say path never calls back into ``base``).
SCORED_ALLOW: tuple[Verdict, ...] = (ALLOW_VERDICT,) + tuple(
    Verdict(frozenset(), Action.ALLOW, "no_match", score=i / 100) for i in range(1, 100)
)


def below(score: float) -> Verdict:
    """The ALLOW verdict for a below-threshold score (to the hundredth, capped at 0.99)."""
    return SCORED_ALLOW[max(0, min(99, int(score * 100)))]


def crisis_verdict(model: SafetyModel, inp: FilterInput, rule_score: float) -> Verdict:
    """The crisis verdict when the rules did not fire (``rule_score`` < 1)."""
    margin = model.crisis_margin(inp.text)
    head = model.crisis
    if margin >= head.threshold:
        reason = "risk_language"
    elif model.crisis_after(margin, inp.recent):
        reason = "risk_after_recent"
    else:
        return below(max(rule_score, head.confidence(margin)))
    return Verdict(_CRISIS, Action.ESCALATE, reason, notice=NOTICE_RISK, score=1.0)
