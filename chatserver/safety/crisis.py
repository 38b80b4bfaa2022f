"""The crisis filter: does the *sender* signal risk *now*?

Risk words are everywhere in a peer-support room: people quote them, deny them, remember
them, joke with them and ask about them. So a rule hit (``crisis_lexicon``) is only the
start; each hit then goes through context checks that veto it:

- **negation** just before it ("i'm not thinking of suicide", "je ne veux pas mourir");
- **long ago** in its sentence ("5 years ago", "as a teen", "hace años"), or recovery talk in
  the message ("i'm doing well now") with nothing in the sentence saying *now*;
- **humour** in its sentence ("lol", "jk", laughing emoji; but "not joking" keeps it);
- **someone else**: the nearest person before it is "you", "he", "my friend" ... (a
  listener's question, grief, gossip), or its sentence is a question to "you", or it is
  about a film, game, book or the news.

Surviving hits add up by family (see ``crisis_lexicon``); a message is crisis at 1.0. A
goodbye with no risk words is read against the sender's ``recent`` messages, so "thank you
for everything, bye" after "there's no point anymore" escalates.

Listeners and moderators never trigger it: their messages are about the seeker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatserver.safety.base import ALLOW_VERDICT, Action, FilterInput, Verdict
from chatserver.safety.crisis_lexicon import (
    AMPLIFIER_RULES,
    AMPLIFIERS,
    ASKED,
    BENIGN_MEANS,
    BLOB_MIN,
    BLOB_RISK,
    BYE,
    CRISIS_RULES,
    FAMILY_CAPS,
    HUMOR,
    MEDIA,
    NOT_JOKING,
)
from chatserver.safety.learned import crisis_verdict
from chatserver.safety.model import SafetyModel, load_model
from chatserver.safety.normalize import analyze
from chatserver.safety.rules import Rule, RuleSet

__all__ = ["CrisisAssessment", "CrisisFilter", "assess", "rule_verdict"]

LABEL = "crisis"
_NOT_SENDER = ("listener", "moderator")  # their messages are about the seeker
THRESHOLD = 1.0

_SENTENCE_END = re.compile(r"[.!?;\n]|\s-\s|\s\*\s")
_CLAUSE_END = re.compile(r"[.!?;,:\n()]|\s-\s|\bbut\b|\bpero\b|\bmais\b|\baber\b|\bmas\b|\bma\b")
_TOKEN = re.compile(r"[a-z]+")


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_NEGATORS = _words(
    "not no never dont doesnt didnt wont cant cannot couldnt wouldnt shouldnt havent hasnt "
    "hadnt isnt arent wasnt werent aint nor without nothing nobody neither hardly "
    "ne pas jamais plus nicht kein keine keinen keinem nie niemals nunca nao nem non niet "
    "geen nooit nada nenhum"
)
_NEGATION_RELEASE = frozenset({"stop", "help", "wait", "shake", "handle", "take"})
_FIRST = _words(
    "i im ive id ill me my mine myself we were our us je j moi yo eu ich mich mir io ik mezelf"
)
_OTHER = _words(
    "you youre youve youd youll your yours yourself u ur he hes she shes they theyre "
    "theyve people someone somebody anyone anybody tu toi vous usted voce voces du jij lui "
    "lei ele ela il elle ils er sie hij zij"
)
# Third-person nouns count as the subject unless a preposition governs them ("to my kids").
_OTHER_NOUNS = _words(
    "friend friends sister brother mom mum dad father mother son daughter cousin boyfriend "
    "girlfriend partner husband wife kid kids character guy girl man woman person patient "
    "client grandma grandpa aunt uncle neighbor neighbour roommate classmate coworker "
    "colleague author"
)
_PREPOSITIONS = _words("to for with at from about of by on in into like than a para con")
# "you" after these is an object ("thank you", "love you"), not who the sentence is about.
_OBJECT_GOVERNORS = _words(
    "thank thanks love miss see tell told bless with to for at ask asked help helped trust "
    "need want about of"
)
_SECOND = _words("you youre youve youd youll your yourself u ur tu te vous voce du dich jij")
_PAST = re.compile(
    r"\b(?:(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|few|several|many|couple "
    r"of|couple) (?:years?|yrs?|months?|decades?) (?:ago|back)|used to|when i was (?:\d+|a |"
    r"younger|little|in )|as a (?:kid|teen|teenager|child|student)|in (?:high school|middle "
    r"school|college|my teens|my twenties|my 20s)|back (?:then|in \d{4}|in (?:high school|"
    r"college))|last (?:year|winter|summer|spring|fall|autumn)|in \d{4}|years ago|months ago|"
    r"hace (?:\d+|unos|muchos|varios|dos|tres|cuatro|cinco) (?:anos|meses)|cuando (?:era|tenia)"
    r"|de (?:chic[ao]|adolescente|nin[ao])|el ano pasado|en la adolescencia|ha (?:\d+|uns|"
    r"muitos|dois|tres) (?:anos|meses)|quando (?:eu )?(?:era|tinha)|na adolescencia|ano "
    r"passado|faz (?:\d+|uns|dois|tres|quatro|cinco) (?:anos|meses)|il y a (?:\d+|quelques|"
    r"plusieurs|deux|trois) (?:ans|mois)|quand j etais|l an dernier|adolescente?|vor (?:\d+|"
    r"einigen|vielen|zwei|drei) (?:jahren|monaten)|als (?:ich )?(?:kind|teenager|jugendliche)|"
    r"letztes jahr|fruher|(?:\d+|due|tre|alcuni|molti) (?:anni|mesi) fa|anni fa|quando ero|da "
    r"(?:ragazz[ao]|adolescente|piccol[ao])|l anno scorso|(?:\d+|een paar|twee|drie) (?:jaar|"
    r"maanden) geleden|toen ik|vroeger)\b"
)
_RECOVERY = re.compile(
    r"\b(?:(?:im|i am|feeling|doing|i feel) (?:so |much |a lot |way )?(?:better|well|okay|ok|"
    r"good|fine|great|safe) (?:now|these days|today)|now im (?:\w+ )?(?:ok|okay|fine|better|"
    r"good|happy|safe|a )|(?:clean|free|sober) (?:for|since)|(?:\d+|one|two|three|four|five|"
    r"six|seven|eight|nine|ten) (?:days?|weeks?|months?|years?) (?:clean|free)|havent (?:\w+ )"
    r"{0,3}(?:since|in (?:\d+|a|over|almost))|i (?:survived|made it|recovered)|in recovery|"
    r"proud (?:to say|of myself)|hoy (?:estoy|me siento) bien|hoje (?:eu )?(?:to|estou|sou) "
    r"(?:bem|feliz)|oggi sto bene|(?:je vais|ca va) (?:bien|mieux)|heute geht es mir (?:gut|"
    r"besser)|nu gaat het (?:goed|beter))\b"
)
_NOW = re.compile(
    r"\b(?:now|right now|rn|tonight|today|this (?:morning|evening|afternoon|week)|again|"
    r"still|currently|just|at the moment|atm|anymore|lately)\b"
)
_NOTICE_SELF = (
    "Thank you for telling us. It sounds like you are carrying something really painful right "
    "now, and you don't have to carry it alone. A listener has been asked to check in with you, "
    "and the people below can talk with you at any hour."
)
_NOTICE_DANGER = (
    "It sounds like you may not be safe right now. If you can do it safely, please call your "
    "local emergency number. A listener has been alerted, and the lines below can help too."
)


@dataclass(frozen=True, slots=True)
class CrisisAssessment:
    """Score and the strongest surviving family; ``score >= 1.0`` means crisis."""

    score: float
    reason: str
    families: frozenset[str]


_NONE = CrisisAssessment(0.0, "no_match", frozenset())


def _bounds(text: str, start: int, end: int, pattern: re.Pattern[str]) -> tuple[int, int]:
    left = 0
    for m in pattern.finditer(text, 0, start):
        left = m.end()
    m2 = pattern.search(text, end)
    return left, (m2.start() if m2 else len(text))


def _negated(before: list[str]) -> bool:
    window = before[-3:]
    for i, tok in enumerate(window):
        if tok in _NEGATORS:
            nxt = window[i + 1] if i + 1 < len(window) else ""
            if nxt in _NEGATION_RELEASE:
                continue
            return True
    return False


def _other_subject(before: list[str]) -> bool:
    window = before[-8:]
    for i in range(len(window) - 1, -1, -1):
        tok = window[i]
        if tok in _FIRST:
            return False
        if tok in _OTHER:
            if tok in _SECOND and i > 0 and window[i - 1] in _OBJECT_GOVERNORS:
                continue
            return True
        if tok in _OTHER_NOUNS and not _PREPOSITIONS.intersection(window[max(0, i - 2) : i]):
            return True
    return False


class _Recovery:
    """Whether the whole message talks about recovery; computed once, on first need."""

    __slots__ = ("_value", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._value: bool | None = None

    def __bool__(self) -> bool:
        if self._value is None:
            self._value = _RECOVERY.search(self.text) is not None
        return self._value


class _Context:
    """The sentence (or short message) being matched, plus message-level facts."""

    __slots__ = ("recovery", "text")

    def __init__(self, text: str, recovery: _Recovery) -> None:
        self.text = text
        self.recovery = recovery


def _vetoed(r: Rule, m: re.Match[str], ctx: _Context) -> bool:
    text = ctx.text
    s0, s1 = _bounds(text, m.start(), m.end(), _SENTENCE_END)
    sentence = text[s0:s1]
    if r.negation:
        c0, _ = _bounds(text, m.start(), m.end(), _CLAUSE_END)
        if _negated(_TOKEN.findall(text, c0, m.start())):
            return True
    if r.past and r.family not in AMPLIFIERS:
        if _PAST.search(sentence):
            return True
        if ctx.recovery and not _NOW.search(sentence):
            return True
    if r.humor and HUMOR.search(sentence) and not NOT_JOKING.search(sentence):
        return True
    if r.subject:
        sent_tokens = _TOKEN.findall(sentence)
        if not r.self_anchored and _other_subject(_TOKEN.findall(text, s0, m.start())):
            return True
        ends_question = s1 < len(text) and text[s1] == "?"
        if (
            ends_question
            and not _FIRST.intersection(sent_tokens)
            and _SECOND.intersection(sent_tokens)
        ):
            return True
        if not r.self_anchored and MEDIA.search(sentence):
            return True
        if ASKED.search(text, s0, m.start()):  # "she asked me if i ever think about ..."
            return True
    return r.family == "means" and BENIGN_MEANS.search(sentence) is not None


_LONG = 160  # longer texts are matched sentence by sentence
_SENTENCE_DELIMS = re.compile(r"[.!?;\n]+")


def _segments(text: str) -> list[str]:
    """Sentences of a long text, each with its closing punctuation (a "?" matters)."""
    if len(text) < _LONG:
        return [text]
    out: list[str] = []
    pos = 0
    for m in _SENTENCE_DELIMS.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def _score_text(
    text: str, rules: list[Rule], gated: bool, tokens: frozenset[str], amplifier_rules: RuleSet
) -> dict[str, tuple[float, str]]:
    """Family scores of one folded text. Rules run only on the sentences holding one of
    their anchors, so a long message costs little more than its risky sentences."""
    recovery = _Recovery(text)
    families: dict[str, tuple[float, str]] = {}
    fired: set[str] = set()
    segments = _segments(text)
    per_segment: list[tuple[_Context, list[Rule]]] = []
    if len(segments) == 1 or not gated:
        per_segment.append((_Context(text, recovery), rules))
    else:
        # Which sentences hold a rule's anchors: plain substring scans (C speed); a scan may
        # also hit inside a longer word, which only costs a regex search, never a match.
        present = [(r, r.anchors & tokens) for r in rules]
        for seg in segments:
            seg_rules = [r for r, words in present if any(w in seg for w in words)]
            if seg_rules:
                per_segment.append((_Context(seg, recovery), seg_rules))
    for ctx, seg_rules in per_segment:
        _apply(seg_rules, ctx, families, fired)
    if families:  # amplifiers only matter next to a core hit
        amps = amplifier_rules.candidates(tokens) if gated else list(amplifier_rules.all_rules)
        if amps:
            for seg in segments:
                _apply(amps, _Context(seg, recovery), families, fired)
    return families


def _apply(
    rules: list[Rule], ctx: _Context, families: dict[str, tuple[float, str]], fired: set[str]
) -> None:
    text = ctx.text
    for r in rules:
        if r.name in fired:
            continue
        for m in r.pattern.finditer(text):
            if not _vetoed(r, m, ctx):
                fired.add(r.name)
                total, best = families.get(r.family, (0.0, r.name))
                cap = FAMILY_CAPS.get(r.family, 1.0)
                families[r.family] = (min(cap, total + r.weight), best)
                break


def _total(families: dict[str, tuple[float, str]]) -> float:
    core = sum(v for f, (v, _) in families.items() if f not in AMPLIFIERS)
    if core <= 0:
        return 0.0
    return core + sum(v for f, (v, _) in families.items() if f in AMPLIFIERS)


def assess(
    text: str,
    recent: tuple[str, ...] = (),
    *,
    rules: RuleSet = CRISIS_RULES,
    amplifier_rules: RuleSet = AMPLIFIER_RULES,
    gated: bool = True,
) -> CrisisAssessment:
    """Crisis score of ``text`` from the sender's point of view (no role handling).

    ``gated=False`` runs every rule regardless of anchors; tests use it to prove the anchor
    index never hides a match.
    """
    a = analyze(text)
    candidates = rules.candidates(a.tokens) if gated else list(rules.all_rules)
    best = _NONE
    if candidates:
        for variant in a.variants:
            fams = _score_text(variant, candidates, gated, a.tokens, amplifier_rules)
            total = _total(fams)
            if total > best.score:
                core = {f: v for f, v in fams.items() if f not in AMPLIFIERS}
                top = max(core, key=lambda f: core[f][0])
                best = CrisisAssessment(total, top, frozenset(fams))
    if (
        best.score < THRESHOLD
        and a.joined_letters
        and any(BLOB_RISK.search(t) for t in a.tokens if len(t) >= BLOB_MIN)
    ):
        best = CrisisAssessment(THRESHOLD, "ideation", best.families | {"ideation"})
    if best.score < THRESHOLD and recent and BYE.search(a.text):
        prior = max(
            (
                assess(t, rules=rules, amplifier_rules=amplifier_rules, gated=gated).score
                for t in recent[-5:]
            ),
            default=0,
        )
        if prior >= 0.3:
            return CrisisAssessment(
                max(best.score, THRESHOLD),
                "goodbye_after_hopelessness",
                best.families | {"goodbye"},
            )
    return best


_REASONS = {
    "ideation": "suicidal_ideation",
    "plan": "plan_or_method",
    "means": "means_at_hand",
    "attempt": "attempt_in_progress",
    "self_harm": "self_harm_now",
    "goodbye": "goodbye_finality",
    "goodbye_weak": "goodbye_finality",
    "despair": "hopelessness",
    "danger": "danger_from_others",
}


def rule_verdict(inp: FilterInput) -> Verdict:
    """The rules alone: ESCALATE with a specific reason code, or ALLOW with their score."""
    if inp.role in _NOT_SENDER:
        return ALLOW_VERDICT
    result = assess(inp.text, inp.recent)
    if result.score <= 0.0:
        return ALLOW_VERDICT
    if result.score < THRESHOLD:
        return Verdict(frozenset(), Action.ALLOW, "no_match", score=round(result.score, 3))
    reason = _REASONS.get(result.reason, result.reason)
    notice = _NOTICE_DANGER if result.reason == "danger" else _NOTICE_SELF
    return Verdict(frozenset({LABEL}), Action.ESCALATE, reason, notice=notice, score=1.0)


class CrisisFilter:
    """ESCALATE when the sender signals risk now: the rules, then the learned model.

    ``rules_only=True`` leaves the model out (comparisons, and the rule tests);
    ``model`` injects one (tests), else the packaged artifact is loaded once per process.
    """

    name = "crisis"
    cpu_heavy = False
    labels = frozenset({LABEL})

    def __init__(self, model: SafetyModel | None = None, *, rules_only: bool = False) -> None:
        self._model = None if rules_only else (model or load_model())

    def check(self, inp: FilterInput) -> Verdict:
        verdict = rule_verdict(inp)
        if verdict.labels or self._model is None or inp.role in _NOT_SENDER:
            return verdict
        return crisis_verdict(self._model, inp, verdict.score)
