"""Rules OR model: how the learned heads join the rule filters' verdicts.

The rules (``crisis.rule_verdict``, ``trauma.rule_verdict``) answer first: when they fire,
their verdict stands, with its specific reason code (``plan_or_method``,
``danger_from_others`` ...) that a listener reads. When they do not, the model
(``chatserver.safety.model``) gets its say:

- crisis: the message's own margin clears the threshold (``risk_language``), or it clears
  the lower context threshold right after a message that cleared the full one
  (``risk_after_recent``);
- trauma_dump: the margin clears the threshold (``graphic_detail``, as the rules say it).

Grouped cross-validation chose this OR (see ``docs/safety.md``): the rules keep their
precision and reasons, the model adds the phrasings no lexicon listed. Below threshold, the
verdict still carries a score (the larger of the rules' and the model's), so the classify
command can rank near misses.
"""

from __future__ import annotations

from collections.abc import Callable

from chatserver.safety.base import ALLOW_VERDICT, Action, FilterInput, Verdict
from chatserver.safety.model import SafetyModel

__all__ = ["NOTICE_RISK", "crisis_verdict", "trauma_verdict"]

#: The model cannot tell "I might hurt myself" from "someone might hurt me", so its notice
#: speaks to both, gently.
NOTICE_RISK = (
    "Thank you for telling us. It sounds like things are really hard right now, and you don't "
    "have to face this alone. A listener has been asked to check in with you, and the people "
    "below can talk with you at any hour. If you are in danger and can do it safely, please "
    "call your local emergency number."
)
_CRISIS = frozenset({"crisis"})
_TRAUMA = frozenset({"trauma_dump"})


def _below(score: float) -> Verdict:
    if score <= 0.0:
        return ALLOW_VERDICT
    return Verdict(frozenset(), Action.ALLOW, "no_match", score=min(0.99, score))


def crisis_verdict(model: SafetyModel, inp: FilterInput, rule_score: float) -> Verdict:
    """The crisis verdict when the rules did not fire (``rule_score`` < 1)."""
    margin = model.crisis_margin(inp.text)
    head = model.crisis
    if margin >= head.threshold:
        reason = "risk_language"
    elif model.crisis_after(margin, inp.recent):
        reason = "risk_after_recent"
    else:
        return _below(max(rule_score, head.confidence(margin)))
    return Verdict(_CRISIS, Action.ESCALATE, reason, notice=NOTICE_RISK, score=1.0)


def trauma_verdict(
    model: SafetyModel,
    inp: FilterInput,
    rule_score: float,
    category_of: Callable[[str], str],
    notices: tuple[str, str],
) -> Verdict:
    """The trauma verdict when the rules did not fire.

    ``category_of(text)`` is the rules' guess of the content-warning category (their cue
    families still say *what kind* of detail it is), asked only when the model fires;
    ``notices`` is (hold, warning).
    """
    margin = model.trauma_margin(inp.text)
    head = model.trauma
    if margin is None or margin < head.threshold:
        conf = head.confidence(margin) if margin is not None else 0.0
        return _below(max(rule_score, conf))
    category = category_of(inp.text)
    if inp.room_consent or inp.confirmed_warning:
        reason = "graphic_with_consent" if inp.room_consent else "graphic_with_warning"
        cat = inp.confirmed_warning or category
        return Verdict(
            _TRAUMA, Action.CONTENT_WARNING, reason, notice=notices[1], category=cat, score=1.0
        )
    return Verdict(
        _TRAUMA, Action.HOLD, "graphic_detail", notice=notices[0], category=category, score=1.0
    )
