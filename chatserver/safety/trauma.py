"""The trauma-dump filter: long, graphic disclosures get a content warning before others read.

Survivors must be able to talk about what happened; other people in the room, some of them
survivors too, must be able to choose when to read it. So the filter never judges the topic:
"i was assaulted and i'm in therapy" passes at any length. It looks for *graphic, concrete
detail*: blood and how it moved, wounds, bone and skin, bodies, force described blow by blow.

Scoring, on the folded text (``normalize``), only for messages of ``MIN_WORDS`` or more:
each cue family below counts its matches up to a cap; the message is a dump when the total
reaches ``THRESHOLD`` *and* at least ``MIN_CONCRETE`` of it is bodily detail (blood, flow,
wound, death scene), so a long account of an abusive relationship without injury detail is
not held. Saying "i'm not going to describe it" lowers the score: the writer already chose
not to be graphic.

A dump is HELD with a kind request to add a content warning; if the room has said it is
ready to hear it (``room_consent``) or the sender re-sent with a warning
(``confirmed_warning``), it goes out as CONTENT_WARNING (collapsed, category kept).
"""

from __future__ import annotations

import math
import re

from chatserver.safety.base import ALLOW_VERDICT, Action, FilterInput, Verdict
from chatserver.safety.learned import SCORED_ALLOW
from chatserver.safety.model import SafetyModel, load_model
from chatserver.safety.normalize import analyze

__all__ = ["TraumaDumpFilter", "rule_verdict", "trauma_score"]

LABEL = "trauma_dump"
MIN_WORDS = 50
THRESHOLD = 2.5
MIN_CONCRETE = 1.0

_CUES: dict[str, tuple[float, float, str]] = {
    # family: (weight per match, cap, pattern)
    "blood": (
        1.0,
        2.0,
        r"(?<!gave )(?<!give )(?<!donate )(?<!donated )(?<!donating )(?<!giving )"
        r"\b(?:blood(?! (?:test|tests|work|pressure|sugar|type|drive|donation|bank|orange|"
        r"moon|cells?|count|panel|donor))\w*|bled|bleed\w*|bloody|bloodied|sangre|sangr\w+|"
        r"(?:du|le|de|mon|son|en|au|plein) sang|saign\w+|sangue|sanguin\w+|blut\w*|geblutet|"
        r"bloed\w*)\b",
    ),
    "flow": (
        1.0,
        2.0,
        r"\b(?:pour(?:ing|ed)|gush(?:ing|ed)|spurt(?:ing|ed|s)?|spray(?:ing|ed)|pool(?:ing|"
        r"ed)|puddle|soak(?:ed|ing)|drip(?:ping|ped)|stream(?:ing|ed)|running down|ran down|"
        r"coming out in|in pulses|encharc\w+|empapad\w+|chorrea\w+|coulait|giclait|gicle|"
        r"spritz\w*|durchgeweicht|pingava|escorria|scorreva|inzuppat\w+|not slowing|wont "
        r"stop|no para)\b",
    ),
    "wound": (
        1.0,
        3.0,
        r"\b(?:gash(?:es)?|wounds?|lacerations?|stitches|staples|sutures|grafts?|(?:split|"
        r"sliced|torn|ripped|tore|cracked|broken|busted) (?:open|wide)|gaping|open (?:wound|"
        r"cut|flesh)|raw|blisters?|blistered|scabs?|pus|weep(?:ing)?|infected|flesh|fat|"
        r"muscle|tendons?|bones?|skull|brains?|intestines?|guts|entrails|organs|caved in|"
        r"crushed|mangled|severed|stumps?|snapped|fractured?|broken (?:nose|jaw|ribs?|bones?|"
        r"teeth|arm|leg|fingers?|neck|wrist)|cracked (?:rib|ribs|skull|head)|bruises|bruised|"
        r"black and blue|swollen shut|concussion|seizure|teeth marks|chipped|bit through|"
        r"choking on|vomit\w*|charred|burn unit|skin (?:came|coming|was|hanging|peeling|"
        r"sliding|split|torn|tore|went)|sheet of skin|piece of skin|hanging by|heridas?|"
        r"(?:\d+|quince|veinte) puntos|moretones|moreton|huesos?|craneo|aplastad\w+|"
        r"destrozad\w+|carne|mandibula rota|dientes|tripas|quemaduras?|ampollas|plaies?|"
        r"blessures?|points de suture|(?:\d+|quinze|vingt) points|os|crane|hematomes?|"
        r"cassee?s?|chair|graisse|brulures?|cloques|arcade ouverte|wunden?|verletzungen|"
        r"genaht|stiche|knochen|schadel|hautfetzen|fleisch|gebrochen|blaue flecken|"
        r"hamatome?|verbrennungen|abgebunden|verblutet|feridas?|(?:\d+) pontos|ossos?|"
        r"cranio|hematomas?|roxos?|roxas?|quebrad[ao]s?|queimaduras|bolhas|ferite|"
        r"(?:\d+) punti|ossa|lividi|rott[aoie]|bruciature|vesciche|abri[ou] (?:e|y) )\b",
    ),
    "force": (
        1.0,
        2.0,
        r"\b(?:slammed|smashed|punched|kicked|stabbed|choked|strangled|pinned (?:me|my|"
        r"down)|held (?:me|my \w+|both my \w+) (?:down|with)|dragged|shoved|threw (?:me|a |"
        r"boiling)|stomped|beat (?:me|him|her|our)|beaten|whipped|bit (?:me|my)|hit me|hit "
        r"my|(?:hand|hands) (?:on|around) my (?:throat|neck)|crushing my|pressed until|"
        r"grabbed me|rammed|bashed|attacked me|swung (?:it|at)|pushed me|pulled me|"
        r"dragged me|drag me|bang(?:ed)? my|slam(?:med)? my|crack(?:ed)? (?:against|my)|"
        r"pressed (?:into|against|down)|tore (?:my|at)|ripped (?:my|off)|cornered me|"
        r"threw me|kicked me|stamped on|golpe\w*|"
        r"me pegaba|me pego|me pegaron|me golpeo|me golpearon|trompada|patada|me empujo|"
        r"me agarro|"
        r"me sostuvo|apunal\w+|frappait|frappe|coups|m a pousse|etrangl\w+|plaquee|gifl\w+|"
        r"geschlagen|getreten|gewurgt|gerammt|gestochen|gestossen|me bateu|espancou|"
        r"empurrou|me segurou|segurou|me jogou|enforcou|apertava|socou|picchiat\w+|"
        r"sbattut\w+|"
        r"colpit\w+|strangolat\w+|spint[ao] contro)\b",
    ),
    "body": (
        0.25,
        1.5,
        r"\b(?:head|face|skull|scalp|neck|throat|chest|ribs?|stomach|belly|thighs?|hips?|"
        r"wrists?|forearms?|arms?|hands?|fingers?|fingertips|skin|mouth|lips?|teeth|tongue|"
        r"nose|jaw|cheek|eyes?|forehead|ears?|legs?|knees?|shins?|ankles?|feet|back|spine|"
        r"shoulders?|cabeza|cara|cuello|garganta|pecho|costillas|estomago|muslos?|munecas?|"
        r"brazos?|manos?|dedos?|piel|boca|nariz|ojos?|frente|piernas?|espalda|tete|visage|"
        r"cou|gorge|poitrine|cotes?|ventre|cuisses?|poignets?|bras|mains?|doigts|peau|"
        r"bouche|nez|machoire|yeux|oeil|front|jambes?|dos|kopf|gesicht|hals|kehle|brust|"
        r"rippen?|bauch|oberschenkel|handgelenk\w*|arme?|hande|finger|haut|mund|nase|kiefer|"
        r"augen?|stirn|beine?|rucken|cabeca|rosto|pescoco|garganta|peito|costelas|barriga|"
        r"coxas?|pulsos?|bracos?|maos?|dedos|pele|nariz|olhos?|testa|pernas?|costas|testa|"
        r"faccia|collo|gola|petto|costole|pancia|cosce|cosc\w+|polsi|braccia|mani|dita|"
        r"pelle|bocca|naso|occhi|gambe|schiena)\b",
    ),
    "impact": (
        1.0,
        2.0,
        r"\b(?:against (?:the|a|my) (?:wall|floor|door|locker|table|ground|brick\w*|tiles?|"
        r"curb|pavement|concrete|counter|sink|car|window|mirror|headboard)|into (?:the|a) "
        r"(?:wall|floor|ground|duvet|mattress|pillow|dirt|concrete|pavement|glass)|(?:across|"
        r"down) the (?:face|head|back)|by (?:my|the|her|his) (?:hair|throat|neck)|contra "
        r"(?:la pared|el suelo|la cama|el piso|la mesa|el muro)|contre (?:le mur|le sol|le "
        r"carrelage|la porte|la table)|gegen (?:die wand|den boden|die tur|die tischkante)|"
        r"contra (?:a parede|o chao|a cama|a mesa)|contro (?:il muro|il pavimento|la porta|"
        r"il tavolo))\b",
    ),
    "pain": (
        0.5,
        1.0,
        r"\b(?:pain|agony|couldnt breathe|could barely breathe|cant breathe|screamed|"
        r"screaming|hurt to (?:walk|sit|breathe|move|swallow)|dolio|dolor|douleur|schmerz\w*|"
        r"doia|dor|dolore|faceva (?:male|malissimo))\b",
    ),
    "sexual": (
        0.5,
        1.0,
        r"\b(?:raped|rape|rapist|molested|forced (?:himself|herself|me)|on top of me|pulled "
        r"(?:my )?(?:pants|dress|skirt|underwear|jeans)|inside me|me violo|violacion|"
        r"violad[ao]|violee?|viol|violer|vergewaltig\w*|estupr\w+|violentat\w+)\b",
    ),
    "death": (
        1.0,
        2.0,
        r"\b(?:dead body|corpse|(?:wasnt|not|stopped) (?:moving|breathing)|already dead|was "
        r"dead|lifeless|eyes (?:were )?open|head was (?:missing|gone)|top of (?:his|her|the) "
        r"head|body parts|decapitat\w+|dismember\w+|the smell|smell of|ya estaba muert[ao]|"
        r"cadaver|cadavre|leiche|cadavere|morto|deja mort|il est mort|er war tot|"
        r"(?:top|back|half|side) of (?:it|his|her|their|the|my \w+s?) (?:head |face |skull )?"
        r"(?:was )?(?:gone|missing|blown)|(?:head|face|skull|jaw|leg|arm)s? (?:was |were )?"
        r"(?:blown (?:off|open|apart)|caved in|split open|torn off|ripped off))\b",
    ),
    "scene": (
        0.5,
        1.0,
        r"\b(?:explosion|exploded|shell|shells|bomb|bombs|gunfire|shrapnel|trench|wreck\w*|"
        r"crash(?:ed)?|run over|ran over|hit by a|ejected|rubble|escombros|decombres|"
        r"trummer|macerie|explosao|explosion)\b",
    ),
    "self_injury": (
        0.5,
        1.0,
        r"\b(?:i (?:used to |would |had )?(?:cut|burn|burned|burnt|carved|sliced|"
        r"scratched|picked|pulled|peel|peeled)(?: \w+)? (?:my|myself)|cut (?:my|"
        r"myself) so|me scarifi\w+|me suis coupee?|me cortei|me corte|me cortaba|mi "
        r"tagliav\w+|geritzt|mezelf gesneden)\b",
    ),
}
_PATTERNS = {fam: (w, cap, re.compile(p)) for fam, (w, cap, p) in _CUES.items()}
_CONCRETE = ("blood", "flow", "wound", "death", "impact")
# A message needs one of these words before any regex runs. Graphic
# accounts name blood, wounds, bone or bodies; long non-graphic posts stop here cheaply.
_GATE_WORDS = frozenset(
    str.split(
        "blood bled bleed bleeding bloody bloodied sangue gash gashes wound wounds "
        "laceration lacerations stitches staples sutures graft grafts gaping blister "
        "blisters blistered scab scabs pus infected flesh muscle tendon tendons bone bones skull "
        "brain brains intestines guts entrails organs caved crushed mangled severed stump "
        "stumps snapped fracture fractured bruises bruised swollen concussion seizure chipped "
        "choking vomit vomited charred herida heridas moretones moreton hueso huesos craneo "
        "carne mandibula tripas quemaduras ampollas plaie plaies blessure blessures crane "
        "hematome hematomes graisse brulures cloques arcade wunde wunden verletzungen genaht "
        "stiche knochen schadel hautfetzen fleisch hamatom hamatome verbrennungen abgebunden "
        "verblutet ferida feridas osso ossos cranio hematoma hematomas roxo roxos roxa roxas "
        "queimaduras bolhas ferite ossa lividi bruciature vesciche corpse lifeless cadaver "
        "cadavre leiche cadavere morto dead gushing spurting spraying pooling puddle soaked "
        "dripping pulses sangre sangrando sangraba sangrado sangro sangrar saigne saignait "
        "saignement saigner saignais blut bluten blutete blutig blutige blutigen blutend blutet "
        "bloed bloeden bloedde bloedend empapado empapada empapados encharcou encharcado "
        "encharcada chorreaba chorreando spritzte gespritzt spritzt durchgeweicht inzuppato "
        "inzuppata decapitated dismembered sang explosion exploded shell shells bomb bombs "
        "gunfire shrapnel trench wreck wreckage rubble escombros decombres macerie trummer"
    )
)
_RESTRAINT = re.compile(
    r"\b(?:not (?:going|gonna) to (?:describe|share|get into|go into|say)|(?:wont|will not|rather "
    r"not|dont want to|not ready to) (?:describe|share|get into|go into)|without (?:going into )?"
    r"(?:the )?details|no details|not (?:going to |gonna )?share (?:them|details|the details))\b"
)
_HOLD_NOTICE = (
    "Your message is on hold, not lost. It includes detail that could be hard for others here "
    "to read without warning. You can add a content warning and send it again, or edit it; "
    "what happened to you matters and you are welcome to share it."
)
_CW_NOTICE = (
    "Your message was shared behind a content warning, so people can choose when to read it."
)


def trauma_score(text: str) -> tuple[float, float, str]:
    """(score, concrete part, category) of a message; (0, 0, "") below ``MIN_WORDS``."""
    a = analyze(text)
    if a.n_words < MIN_WORDS:
        return 0.0, 0.0, ""
    if a.tokens.isdisjoint(_GATE_WORDS):
        return 0.0, 0.0, ""
    folded = a.text
    found: dict[str, float] = {}
    for fam, (w, cap, pattern) in _PATTERNS.items():
        n = len(pattern.findall(folded))
        if n:
            found[fam] = min(cap, n * w)
    score = sum(found.values())
    if _RESTRAINT.search(folded):
        score -= 3.0
    concrete = sum(found.get(f, 0.0) for f in _CONCRETE)
    return score, concrete, _category(found)


def _category(found: dict[str, float]) -> str:
    if "sexual" in found:
        return "sexual_violence"
    if "self_injury" in found:
        return "self_harm"
    if "force" in found:
        return "violence"
    return "gore"


def rule_verdict(inp: FilterInput) -> Verdict:
    """The rules alone: HOLD / CONTENT_WARNING a graphic dump, else ALLOW with their score."""
    score, concrete, category = trauma_score(inp.text)
    if score <= 0.0:
        return ALLOW_VERDICT
    if score < THRESHOLD or concrete < MIN_CONCRETE:
        return Verdict(
            frozenset(),
            Action.ALLOW,
            "no_match",
            score=round(max(0.0, min(score / THRESHOLD, 0.99)), 3),
        )
    labels = frozenset({LABEL})
    if inp.room_consent or inp.confirmed_warning:
        cat = inp.confirmed_warning or category
        reason = "graphic_with_consent" if inp.room_consent else "graphic_with_warning"
        return Verdict(
            labels, Action.CONTENT_WARNING, reason, notice=_CW_NOTICE, category=cat, score=1.0
        )
    return Verdict(
        labels, Action.HOLD, "graphic_detail", notice=_HOLD_NOTICE, category=category, score=1.0
    )


class TraumaDumpFilter:
    """HOLD (or CONTENT_WARNING with consent) long graphic disclosures: rules, then model.

    ``rules_only=True`` leaves the model out; ``model`` injects one (tests).
    """

    name = "trauma_dump"
    cpu_heavy = False
    labels = frozenset({LABEL})

    def __init__(self, model: SafetyModel | None = None, *, rules_only: bool = False) -> None:
        self._model = None if rules_only else (model or load_model())

    def check(self, inp: FilterInput) -> Verdict:
        verdict = rule_verdict(inp)
        if verdict.labels or self._model is None:
            return verdict
        # margins() is the model's C-level cache: the crisis filter has usually scored this
        # text already, so a plain message costs a dict look-up here and no calls.
        margin = self._model.margins(inp.text)[1]
        threshold = self._model.trauma.threshold
        if margin is None or margin < threshold:
            conf = 0.0 if margin is None else 2.0 / (1.0 + math.exp(threshold - margin))
            return SCORED_ALLOW[max(0, min(99, int(max(verdict.score, conf) * 100)))]
        return _model_hit(inp)


def _model_hit(inp: FilterInput) -> Verdict:
    """HOLD (or CONTENT_WARNING with consent) a dump the rules missed and the model caught."""
    category = _category_of(inp.text)
    if inp.room_consent or inp.confirmed_warning:
        reason = "graphic_with_consent" if inp.room_consent else "graphic_with_warning"
        return Verdict(
            frozenset({LABEL}), Action.CONTENT_WARNING, reason, notice=_CW_NOTICE,
            category=inp.confirmed_warning or category, score=1.0,
        )
    return Verdict(
        frozenset({LABEL}), Action.HOLD, "graphic_detail", notice=_HOLD_NOTICE,
        category=category, score=1.0,
    )


def _category_of(text: str) -> str:
    """The content-warning category the cue families suggest ("gore" when none match)."""
    return trauma_score(text)[2] or "gore"
