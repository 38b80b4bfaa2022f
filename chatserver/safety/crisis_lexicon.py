"""Crisis rules: what risk sounds like in chat, in English, Spanish, French, German,
Portuguese, Italian and Dutch (plus a little Polish and Turkish).

Rules run on text folded by ``normalize`` (lowercase, no accents, ``i'm`` -> ``im``,
``j'ai`` -> ``j ai``, stretched letters collapsed, so double letters are written ``l+``).
They are grouped in *families*; a message is crisis when the capped family scores sum to 1.
Core families can fire alone; amplifier families (``now``, ``decided``) only add to a core
hit, so "tonight" or "i've decided" never alarm on their own, but a saved stash of pills
plus "tonight" does.

The weights encode the labelling guidance: a method, plan, timing or farewell matters more
than the word "suicide", and a word like "suicide" or "die" only counts inside a
first-person frame of wanting or intending (the context checks in ``crisis.py`` then veto
negated, long-past, joking, second-person and media uses).
"""

from __future__ import annotations

import re

from chatserver.safety.rules import Rule, RuleSet, rule

__all__ = [
    "AMPLIFIERS", "AMPLIFIER_RULES", "ASKED", "BENIGN_MEANS", "BLOB_MIN", "BLOB_RISK", "BYE",
    "CRISIS_RULES", "FAMILY_CAPS", "HUMOR", "MEDIA", "NOT_JOKING",
]

# Amplifier families add to a core hit but cannot fire alone.
AMPLIFIERS = frozenset({"now", "decided"})
FAMILY_CAPS = {"despair": 0.5, "now": 0.4, "decided": 0.5, "goodbye_weak": 1.0, "means": 0.8}

_ME = r"(?:my ?self|mys[ea]lf|meself|myslef|mysef|mysefl)"
_ME_A = "myself mysalf meself self myslef mysef mysefl"
# Anchors are whole words (a prefix scan per message costs more than it saves).
_SUI_A = (
    "suicide suicides suicidal suicidally suicid sucide sucides sucidal suicde suicdal "
    "suiside suisidal suside susidal sucid suiscide suicidio suicidarme suicider suicidarmi "
    "suizid suicidally suicidality"
)
_MEANS_A = (
    "pills tablets meds medication medicine painkillers paracetamol acetaminophen tylenol "
    "ibuprofen insulin antidepressants rope noose gun pistol rifle firearm bullets bullet "
    "shotgun knife knives blade blades razor razors belt cord charcoal poison bleach "
    "antifreeze bottle"
)
_MEANS_ML_A = (
    "pastillas pastis cuerda soga pistola cuchillo navaja cuchilla cuchillas medicaments "
    "cachets comprimes corde pistolet couteau lame lames tabletten pillen strick seil pistole "
    "waffe messer klinge klingen rasierklinge rasierklingen remedios comprimidos corda arma "
    "faca lamina laminas pillole farmaci coltello lamette touw mes mesjes"
)
_WANT = (
    r"(?:want(?:ed|ing)? to|wanna|wana|wan to|wish(?:ed|ing)? (?:i could|to)|(?:just )?need to|"
    r"going to|gonna|gon|gunna|about to|ready to|trying to|try to|tried to|plan(?:ning)? to|"
    r"planning on|decided to|will|ll|might|may|should|could|have to|gotta|hafta|urge to|"
    r"tempted to|deserve to|would rather|id rather|rather|hope to|prefer to)"
)
_THINK = (
    r"(?:think(?:ing)?|thought(?:s)?|considering|contemplating|planning|plan|obsess(?:ing|ed)?|"
    r"fantasi[sz]ing|dreaming|researching|googling|looking up|daydreaming)"
)
_SUI = r"su+i?[cs]+i?de?"  # suicide, sucide, suicde, suiside, suicid
_DIE_IDIOM = (
    r"(?! (?:of|from) (?:embarrass|laugh|cring|bored|shame|cute|envy|jealous|hunger|thirst)"
    r"| laughing| for (?:a |this|that|some|one|the|it)| inside| a little)"
)
_MEANS_EN = (
    r"(?:pills|tablets|meds|medication|medicine|sleeping pills|painkillers|paracetamol|"
    r"acetaminophen|tylenol|ibuprofen|insulin|antidepressants|rope|noose|gun|pistol|rifle|"
    r"firearm|bullets?|shotgun|knife|knives|blades?|razors?|razor blades?|belt|cord|charcoal|"
    r"poison|bleach|antifreeze|bottle of \w+)"
)
_MEANS_STRONG = (
    r"(?:pills|tablets|meds|medication|sleeping pills|painkillers|paracetamol|acetaminophen|"
    r"tylenol|insulin|antidepressants|rope|noose|gun|pistol|rifle|firearm|bullets?|shotgun|"
    r"charcoal|poison|antifreeze)"
)
_MEANS_ML = (
    r"(?:pastillas|pastis|cuerda|soga|pistola|cuchillo|navaja|cuchillas?|medicaments|cachets|"
    r"comprimes|corde|pistolet|couteau|lames?|tabletten|pillen|strick|seil|pistole|waffe|"
    r"messer|klingen?|rasierklingen?|remedios|comprimidos|corda|arma|faca|laminas?|pillole|"
    r"farmaci|coltello|lamette|touw|mes|mesjes)"
)
_TIME = (
    r"(?:tonight|tomorrow|tmrw|tmr|this (?:weekend|week|friday|saturday|sunday|evening)|"
    r"(?:on )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|in an hour|soon|"
    r"when (?:everyone|everybody|they|my \w+)(?:s| is| are)? (?:asleep|sleeping|gone|at work)|"
    r"after (?:my \w+|everyone|they) (?:go|goes|leave|leaves) (?:to bed|out|to work)|"
    r"before my birthday|at midnight|esta noche|manana|ce soir|demain|ce week end|heute nacht|"
    r"morgen|am wochenende|hoje a noite|amanha|stanotte|stasera|domani|vannacht)"
)

_R: list[Rule] = [
    # ---------------------------------------------------------------- explicit ideation
    rule(
        "ideation_kill_self",
        "ideation",
        1.0,
        _ME_A,
        rf"\b(?:kil+(?:ing|ed|s)?|murder(?:ing)?|off(?:ing)?|end(?:ing)?|unaliv\w*) {_ME}\b"
        r"(?! (?:for|over) (?:forgetting|being|not|that|this|saying|doing|eating|buying))",
        self_anchored=True,
        humor=True,
        requires="kill kil killing kiling killed kiled kills murder murdering off offing end "
        "ending unalive unaliving unalived unaliv",
    ),
    rule(
        "ideation_euphemism",
        "ideation",
        1.0,
        "unalive unaliving unalived alive kms ctb sewer sewerslide soup soupslide delete "
        "deleting deleted terminate terminating selfdelete",
        r"\b(?:un ?-?aliv(?:e|ing|ed)|kms|ctb|sewer ?-?slide|soup ?-?slide|"
        r"self ?-?(?:delet|terminat)\w*)\b",
        humor=True,
    ),
    rule(
        "ideation_end_life",
        "ideation",
        1.0,
        "life",
        r"\b(?:end(?:ing|ed)?|take|taking|took|tak) (?:my|this) (?:own |miserable |stupid )?"
        r"life\b|\bkil+ (?:my|this) life\b",
        self_anchored=True,
    ),
    rule(
        "ideation_end_it_all",
        "ideation",
        1.0,
        "end ending finish",
        r"\b(?:end|ending|finish) (?:it|things|everything) (?:all\b|for good|forever|tonight|"
        r"once and for all)|\b(?:end|ending) it (?:tonight|now|soon)\b",
    ),
    rule(
        "ideation_want_die",
        "ideation",
        1.0,
        "die dead alive exist anymore wake existing disappear forever cease",
        rf"\b{_WANT} (?:just |fucking |really |honestly |literally |simply |finally )?"
        rf"(?:die{_DIE_IDIOM}|be dead|not (?:be alive|exist|be here anymore|wake up)|"
        r"stop existing|disappear forever|(?:go to |fall )?(?:a)?sleep forever|fall asleep and "
        r"never wake|be gone forever|"
        r"cease to exist)\b",
        humor=True,
        requires="want wanted wanting wanna wana wan wish wished wishing need going gonna gon "
        "gunna about ready trying try tried plan planning decided will ll might may "
        "should could have gotta hafta urge tempted deserve would id rather hope prefer",
    ),
    rule(
        "ideation_wish_dead",
        "ideation",
        1.0,
        "dead die born gone without alive",
        r"\bwish(?:ed|ing)? (?:that )?(?:i (?:was|were|could be|had been)|to be|id be) "
        r"(?:dead|gone|never born|not alive)\b|\bwish(?:ed|ing)? (?:that )?(?:id|i had|i would "
        r"have|i was|i were) never (?:been )?born\b|\bwish(?:ed|ing)? i (?:would|could|will) "
        rf"(?:just )?die{_DIE_IDIOM}\b|\bbetter off dead\b|\b(?:everyone|everybody|world|family|"
        r"they|people|all) (?:would be|would all be|will be|d be|is|are) better off without me\b",
        requires="wish wished wishing better",
    ),
    rule(
        "ideation_no_live",
        "ideation",
        1.0,
        "dont didnt not longer",
        r"\b(?:dont|do not|didnt|no longer|dont even|dont really) (?:really )?(?:want|wanna|"
        r"wish) (?:to )?(?:live|be alive|exist|wake up|keep living|keep going|be here (?:anymore|"
        r"any more|tomorrow)|go on(?:$|[.,!?]| anymore| like this| living))|\bdont (?:think i )?"
        r"want to be (?:here|alive|around) (?:tomorrow|anymore|any more|much longer)\b",
        negation=False,
        requires="want wanna wish",
    ),
    rule(
        "ideation_think_suicide",
        "ideation",
        1.0,
        _SUI_A + " killing kiling kill kil ending taking dying being existing waking die end",
        rf"\b{_THINK} (?:about |of |on )?(?:my |a |the )?"
        rf"(?:{_SUI}\b|kil+ing {_ME}|ending (?:my life|it all|it\b|things)|taking my (?:own )?"
        r"life|dying\b|not (?:being here|existing|waking up)|how to (?:die|end it|kil+))",
        requires="think thinking thought thoughts considering contemplating planning plan "
        "obsessing obsessed obsess fantasizing fantasising dreaming researching "
        "googling looking daydreaming",
    ),
    rule(
        "ideation_suicidal",
        "ideation",
        1.0,
        _SUI_A,
        r"\b(?:im|i am|feel|feeling|felt|been|getting|so|very|really|pretty|extremely|super|"
        r"kinda|kind of|quite|actively|passively|seriously|severely|always|still)\s+"
        r"(?:(?!not |never |no )\w+ )?"
        r"su+i?[cs]+i?dal\b|\bsu+i?[cs]+i?dal (?:thoughts|ideation|urges|feelings|again|rn|"
        r"right now|tonight|today|lately|af|asf)\b",
    ),
    rule(
        "ideation_suicide_only_way",
        "ideation",
        1.0,
        _SUI_A + " dying death killing kiling",
        rf"\b(?:{_SUI}|dying|death|killing {_ME}) (?:is|seems|feels|looks|sounds|keeps looking)"
        r" (?:like )?(?:more (?:and more )?like )?(?:the|my) (?:only|best|last|one|easiest) "
        r"(?:way|option|plan|choice|answer|solution|thing|escape|exit)|\b(?:"
        rf"{_SUI}|dying|killing {_ME}) (?:is )?(?:all i (?:think about|want|can think of)|"
        r"(?:the only thing )?on my mind)",
        requires="only mind all",
    ),
    rule(
        "ideation_commit",
        "ideation",
        1.0,
        "commit committing attempt attempting",
        rf"\b{_WANT} (?:commit|attempt) (?:{_SUI}|again)\b",
    ),
    rule(
        "ideation_research",
        "plan",
        1.0,
        "painless painlessly lethal overdose hang take",
        r"\b(?:painless(?:est)? way to (?:die|go|end it)|how (?:many|much) \w+ (?:would it take|"
        r"does it take|is) (?:to )?(?:die|kil+|be lethal|overdose)|lethal dose|how to (?:die "
        rf"painlessly|overdose|hang {_ME}))",
    ),
    rule(
        "ideation_euphemism_noun",
        "ideation",
        1.0,
        "forever eternal permanent endless",
        r"\b(?:take|taking|took|go for|going for) (?:the|a|my) (?:forever|eternal|permanent|"
        r"endless) (?:nap|sleep)\b",
        self_anchored=True,
    ),
    # ES / PT / FR / DE / IT / NL / PL / TR
    rule(
        "ideation_es",
        "ideation",
        1.0,
        "suicidarme matarme quitarme quiero morir morirme desaparecer terminar acabar sentido "
        "estar",
        r"\b(?:suicidarme|matarme|quitarme la vida|me quiero (?:matar|morir|suicidar)|"
        r"(?:quiero|quisiera|voy a|pienso en|ganas de|deseo|necesito) (?:morir(?:me)?\b|"
        r"desaparecer para siempre|terminar con (?:todo|mi vida)|acabar con (?:todo|mi vida))|"
        r"no quiero (?:seguir )?(?:vivir|viv[ao]|viviendo|existir|estar aqui|estar viv[ao])|"
        r"no (?:le )?encuentro sentido "
        r"a (?:la|mi) vida)",
    ),
    rule(
        "ideation_pt",
        "ideation",
        1.0,
        "matar morrer sumir acabar tirar quero",
        r"\b(?:(?:vou|quero|queria|penso em|pensando em|pensei em|vontade de|preciso|tentar|"
        r"tentei|ir) me matar|(?:quero|queria|vou|penso em|vontade de|desejo) (?:morrer|"
        r"sumir para "
        r"sempre|acabar com (?:tudo|minha vida))|tirar (?:a )?minha (?:propria )?vida|"
        r"nao quero (?:mais )?(?:viver|existir|continuar viv[ao]))",
    ),
    rule(
        "ideation_fr",
        "ideation",
        1.0,
        "tuer suicider mourir disparaitre finir vivre fin exister",
        r"\b(?:me tuer|me suicider|(?:veux|voudrais|envie de|vais|pense a|besoin de) "
        r"(?:mourir|disparaitre pour toujours|en finir)|pour en finir|d en finir|plus envie de "
        r"vivre|mettre fin a (?:ma vie|mes jours)|plus (?:envie d|la force d) exister|"
        r"(?:ne )?veux "
        r"plus vivre|pense a (?:me tuer|mourir|me suicider))",
    ),
    rule(
        "ideation_de",
        "ideation",
        1.0,
        "umbringen toten leben nehmen sterben tot selbstmord suizid denke",
        r"\b(?:mich (?:\w+ ){0,2}(?:umbringen|toten)|mir das leben (?:zu )?nehmen|(?:will|mochte|"
        r"wunsche mir|wurde gerne|wurde lieber) (?:(?!nicht |nie |kein )\w+ ){0,3}(?:sterben|"
        r"tot sein|"
        r"nicht mehr leben)|"
        r"denke (?:\w+ ){0,3}an (?:selbstmord|suizid|den tod|sterben)|"
        r"(?:selbstmord|suizid) (?:begehen|machen)|an (?:selbstmord|suizid) denken|nicht mehr "
        r"leben (?:will|mochte))",
    ),
    rule(
        "ideation_it",
        "ideation",
        1.0,
        "uccidermi ammazzarmi suicidarmi togliermi finita morire vivere uccidere ammazzare "
        "suicidare",
        r"\b(?:uccidermi|ammazzarmi|suicidarmi|togliermi la vita|farla finita|(?:voglio|vorrei) "
        r"morire|non voglio (?:piu )?vivere|mi (?:voglio|vorrei|vado a) (?:uccidere|ammazzare|"
        r"suicidare))",
    ),
    rule(
        "ideation_nl",
        "ideation",
        1.0,
        "mezelf dood sterven leven zelfmoord zijn wakker",
        r"\b(?:mezelf (?:van kant maken|doden|ombrengen)|(?:wil|wou|zou willen) (?:\w+ )?"
        r"(?:dood|sterven|niet meer leven)|zelfmoord (?:plegen|doen)|(?:wil|wou) er niet meer "
        r"zijn|niet meer wakker (?:worden|te worden))",
    ),
    rule(
        "ideation_thoughts_ml",
        "ideation",
        1.0,
        "suicidaires suicidaire suicidas suicida suicidi suizidgedanken suicidale suizidal",
        r"\b(?:(?:idees|pensees) suicidaires|suicidaire|(?:pensamientos|ideas|ideacion) suicidas?|"
        r"(?:pensamentos|ideias) suicidas|pensieri suicidi|suizidgedanken|suizidal|suicidale "
        r"gedachten)\b",
    ),
    rule(
        "ideation_pl_tr",
        "ideation",
        1.0,
        "umrzec zyc olmek yasamak",
        r"\b(?:chce umrzec|nie chce (?:juz )?zyc|olmek istiyorum|yasamak istemiyorum)",
    ),
    # ---------------------------------------------------------------- passive ideation
    rule(
        "passive_never_wake",
        "ideation",
        1.0,
        "wake waking woke",
        r"\b(?:sleep|fall asleep|go to sleep|close my eyes|nap) and (?:never|not|dont) "
        r"(?:wake|waking)|\b(?:hope|hoping|wish|pray|praying) (?:that )?i (?:just |"
        r"really )?(?:dont|do not|never|"
        r"wont|will not) wake up\b|\bdisappointed (?:that )?i (?:woke|wake|keep waking) up\b|"
        r"\b(?:dont|never) want to wake up\b",
    ),
    rule(
        "passive_wouldnt_mind",
        "ideation",
        1.0,
        "wouldnt died wake woke hit ran",
        r"\bwouldnt mind (?:if i (?:just )?(?:died|got hit|didnt wake|never woke|got sick and "
        r"died|was dead|disappeared)|dying|being dead|not waking)|\bif i (?:just )?(?:died|"
        r"didnt wake up|never woke up)\b.{0,40}\b(?:at least|would be over|nobody would|no one "
        r"would|wouldnt matter|relief|better)|\b(?:easy|nice|better|okay|ok|fine) (?:it would "
        r"be )?if (?:a|the) (?:car|bus|truck|train) (?:just )?(?:hit me|didnt stop|ran me over)",
        requires="wouldnt mind least over nobody relief matter better easy nice okay ok fine",
    ),
    rule("passive_last_day", "ideation", 1.0, "alive", r"\blast day alive\b"),
    rule(
        "passive_easy_to",
        "ideation",
        1.0,
        "easy",
        r"\b(?:how )?easy it (?:would|could) be to (?:just )?(?:step off|jump|end it|die|let go|"
        r"drive off|crash|swerve|fall|not wake|disappear|stop breathing|take them all)\b",
    ),
    rule(
        "ideation_crash_car",
        "ideation",
        1.0,
        "driving drive crash crashing swerve swerving steering",
        r"\b(?:think|thinking|thought|fantasi[sz]e|fantasi[sz]ing|want|wanted|tempted|urge|keep|"
        r"going to|gonna|might|will|ill)\b(?: \w+){0,3}? (?:driving|drive|crash|crashing|swerve|"
        r"swerving|steering|steer) (?:my car |the car |my bike )?(?:into|off) (?:a |the )?"
        r"(?:wall|tree|bridge|cliff|oncoming|traffic|truck|pole|river|barrier|road)",
    ),
    rule(
        "plan_carbon_monoxide",
        "plan",
        1.0,
        "garage exhaust hose",
        r"\b(?:in|inside) (?:the|my) (?:garage|car)\b.{0,40}\b(?:car|engine|motor) (?:is )?"
        r"(?:running|on)\b|\bhose (?:from|in|into|on) the exhaust|\bexhaust (?:pipe|fumes)\b",
    ),
    rule(
        "ideation_think_method",
        "ideation",
        1.0,
        "taking swallowing jumping hanging overdosing shooting slitting drowning crashing",
        r"\b(?:cant stop|keep|been|always|constantly|obsessively) thinking (?:about|of) (?:taking "
        r"(?:all|every|the whole|a bunch)|swallowing|jumping (?:off|from|in front)|hanging "
        rf"{_ME}|overdosing|shooting {_ME}|slitting|drowning {_ME}|crashing (?:my|the) car)",
        requires="thinking",
    ),
    rule(
        "passive_hit_by",
        "ideation",
        1.0,
        "hits hit kills kill runs run takes",
        r"\b(?:hope|hoping|wish|wishing|pray|praying) (?:that )?(?:a|the|some) (?:car|bus|truck|"
        r"train|drunk driver|plane|bullet|stray bullet|meteor|lightning)(?: \w+)? (?:just )?"
        r"(?:hits?|kills?|runs? (?:me )?over|takes?) me\b",
        requires="hope hoping wish wishing pray praying",
    ),
    rule(
        "passive_never_woke",
        "ideation",
        1.0,
        "woke wake",
        r"\b(?:easier|better|fine|okay|ok|happy|relieved|nice) (?:if|when) i (?:never|didnt|dont|"
        r"did not) (?:woke|wake) up\b",
        negation=False,
    ),
    rule(
        "plan_loaded_gun",
        "plan",
        0.7,
        "loaded",
        r"\b(?:gun|rifle|pistol|shotgun|revolver)\b.{0,40}\bloaded (?:it|the \w+)\b|\bloaded "
        r"(?:my|the|his|dads?|my dads) (?:gun|rifle|pistol|shotgun|revolver)\b",
    ),
    rule(
        "plan_looked_up",
        "plan",
        1.0,
        "looked googled researched searched searching",
        r"\b(?:looked up|googled|researched|searched|searching|searching up) (?:the )?(?:tallest|"
        r"highest) (?:buildings?|bridges?|cliffs?|parking (?:garage|structure)s?)|\b(?:looked "
        r"up|googled|researched|searched) (?:how to|ways to) (?:die|kil+|hang|overdose|end it)|"
        r"\b(?:looked up|googled|researched) (?:the )?(?:lethal|fatal) doses?",
    ),
    rule(
        "attempt_alcohol_pills",
        "attempt",
        1.0,
        "drank drunk downed",
        r"\b(?:drank|drunk|downed)\b.{0,40}\b(?:took|taken|swallowed|popped) (?:all )?(?:my |the |"
        r"some |a bunch of )?(?:sleeping pills|pills|meds|tablets|painkillers)\b",
    ),
    rule(
        "passive_heart_stops",
        "ideation",
        1.0,
        "heart die dies stops",
        r"\b(?:hope|hoping|wish|wishing|pray|praying) (?:that )?(?:my heart|i) (?:just )?"
        r"(?:stops?|gives (?:out|up)|die|dies)\b",
        requires="hope hoping wish wishing pray praying",
    ),
    rule(
        "plan_use_means",
        "plan",
        1.0,
        "blade knife razor gun pills rope pistol",
        r"\b(?:blade|knife|razor|gun|pills|rope|pistol)\b.{0,40}\b(?:want|going|gonna|about|"
        r"ready|tempted) to use (?:it|them)\b",
    ),
    rule(
        "means_not_for",
        "decided",
        0.5,
        "protection hunting sport climbing camping",
        r"\b(?:gun|pistol|rifle|rope|pills|knife)\b.{0,40}\bnot for (?:protection|hunting|"
        r"sport|climbing|camping|self defen[cs]e)\b",
    ),
    rule(
        "means_everything_ready",
        "means",
        0.6,
        "everything set",
        r"\b(?:ive got|i have|got|have) everything i need\b|\beverything is (?:ready|set|in "
        r"place)\b|\b(?:all|im all) set for (?:tonight|tomorrow)",
        requires="need ready place tonight tomorrow",
    ),
    rule(
        "means_stockpile",
        "plan",
        1.0,
        "hoarding hoarded stockpiling stockpiled stashing stashed saving saved",
        r"\b(?:hoard(?:ing|ed)|stockpil(?:ing|ed)|stash(?:ing|ed)|sav(?:ing|ed) up) (?:up )?"
        r"(?:my |all my |the |some |enough )?(?:pills|meds|medication|tablets|sleeping pills|"
        r"painkillers|antidepressants|insulin)\b",
    ),
    rule(
        "passive_death_appeal",
        "ideation",
        1.0,
        "death dying dead existing",
        r"\b(?:death|dying|being dead|not existing|not being here|not being alive) (?:sounds|"
        r"seems|feels|looks|would be|is) (?:so |really |kind of |kinda |pretty |more and more )?"
        r"(?:peaceful|nice|good|appealing|tempting|like (?:a )?relief|like (?:the )?(?:only|best) "
        r"(?:way|option)|better than this|comforting|like freedom|like the answer)\b",
        requires="sounds seems feels looks would",
    ),
    rule(
        "ideation_no_way_out",
        "ideation",
        1.0,
        "way escape option exit",
        r"\b(?:no (?:other )?way out|only (?:way out|escape|exit|option|answer)) (?:(?:except|but|"
        r"other than|is|left is) )?(?:to )?(?:dying|death|die|suicide|end it|ending it|kil+ing "
        rf"{_ME}|kil+ {_ME})\b",
        negation=False,
    ),
    rule(
        "plan_and_means",
        "plan",
        1.0,
        "plan means method",
        r"\b(?:have|got|made|ive got|i have) (?:a plan|the means|a method) and (?:the means|a "
        r"plan|a date|a time|the pills|a method)\b",
    ),
    rule(
        "passive_no_point_living",
        "ideation",
        1.0,
        "living life alive existing live",
        r"\b(?:no|dont see the|dont see any|do not see the|cant see the|cant see any|whats the|"
        r"what is the|lost (?:the|any)) (?:point|reason|will) (?:of|in|to|for) (?:living|life|"
        r"being alive|going on|staying alive|existing|be alive|live|keep living)\b",
        negation=False,
        requires="point reason will",
    ),
    rule(
        "passive_nobody_notice",
        "ideation",
        1.0,
        "notice care miss",
        r"\b(?:nobody|no one|noone|no body|would anyone|would anybody|will anyone|does anyone) "
        r"(?:would |will )?(?:even |really )?(?:notice|care|miss me)\b(?: \w+){0,3}? if i "
        r"(?:died|disappeared|was gone|were gone|killed|wasnt here|vanished|wasnt around|"
        r"was dead|just died)\b",
        negation=False,
        requires="died disappeared gone killed wasnt vanished dead",
    ),
    rule(
        "ideation_make_it_stop",
        "ideation",
        1.0,
        "permanently forever good",
        r"\b(?:want|need|wish|just want) (?:it all|everything|it|this|my life|the pain|all of "
        r"this) to (?:stop|end|be over)\b[.,!]? *(?:permanently|forever|for good)\b",
        requires="stop end over",
    ),
    rule(
        "ideation_act_on_it",
        "ideation",
        1.0,
        "act acting",
        r"\b(?:want to|going to|gonna|might|will|afraid ill|scared ill|worried ill|about to|"
        r"close to|tempted to) act(?:ing)? on (?:it|them|these thoughts|my thoughts|the urge)\b",
    ),
    rule(
        "passive_easier_gone",
        "ideation",
        1.0,
        "easier better simpler nicer fine happier",
        r"\b(?:easier|better|better off|simpler|nicer|fine|happier) (?:for (?:everyone|everybody|"
        r"them|all) )?(?:if|when|once) (?:i (?:just )?(?:was|were|wasnt|werent|was not|were not) "
        r"(?:not )?|im (?:not )?)(?:alive|here|around|dead|gone|in the picture)\b",
        negation=False,
        requires="alive here around dead gone picture",
    ),
    rule(
        "ideation_think_death_often",
        "ideation",
        1.0,
        "death dying mort",
        r"\b(?:think|thinking|thought) (?:about|of) (?:death|dying) (?:all the time|constantly|"
        r"every day|nonstop|non stop|every night|more and more)\b|\bpense (?:tout le temps |sans "
        r"arret |souvent )?a la mort (?:tout le temps|sans arret|chaque jour)",
    ),
    rule(
        "plan_dose_research",
        "plan",
        1.0,
        "pills tablets meds antidepressants painkillers "
        "paracetamol tylenol acetaminophen insulin ibuprofen xanax",
        r"\bhow (?:many|much) (?:of )?(?:my |the |these |those )?(?:\w+ )?(?:pills|tablets|meds|"
        r"antidepressants|painkillers|paracetamol|tylenol|acetaminophen|insulin|ibuprofen|xanax)"
        r"\b(?: \w+){0,3}? (?:take|kill|lethal|fatal|overdose|die|enough)\b",
    ),
    rule(
        "passive_tired_living",
        "ideation",
        1.0,
        "living alive existing",
        r"\b(?:tired|sick|done) of (?:living|being alive|existing)\b",
    ),
    rule(
        "passive_ml_more",
        "ideation",
        1.0,
        "reveiller vivre exister esistere svegliarmi esserci",
        r"\b(?:(?:veux|voudrais|aimerais) (?:ne )?plus (?:me reveiller|vivre|exister)|(?:vorrei|"
        r"voglio) non (?:esistere|svegliarmi|esserci) piu|non voglio (?:piu )?(?:esistere|"
        r"svegliarmi|esserci))\b",
    ),
    rule(
        "passive_ml",
        "ideation",
        1.0,
        "despertar acordar svegliarmi risvegliarmi reveiller aufwachen morirme morrer dormir",
        r"\b(?:(?:dormir|dormirme) y no despertar|(?:dormir|dormisse) e nao acordar|"
        r"(?:addormentarmi|dormire) e non (?:svegliarmi|risvegliarmi)|non svegliarmi piu|"
        r"ne (?:plus|jamais) me reveiller|nicht mehr aufwachen|(?:quisiera|quiero) morirme "
        r"mientras duermo|queria morrer)",
    ),
    # ---------------------------------------------------------------- plan, method, means
    rule(
        "plan_method_self",
        "plan",
        1.0,
        "hang hanging shoot shooting stab stabbing drown drowning poison poisoning suffocate "
        "gas electrocute overdose wrist wrists throat veins",
        rf"\b(?:hang|hanging|shoot|shooting|stab|stabbing|drown|drowning|poison|poisoning|"
        rf"suffocate|gas|electrocute) {_ME}\b|\b(?:slit|slash|slice|open) my (?:wrists?|throat|"
        r"veins)\b|\b(?:going to|gonna|will|want to|plan to|planning to) overdose\b",
        self_anchored=True,
    ),
    rule(
        "plan_use_on_self",
        "plan",
        1.0,
        _ME_A,
        rf"\b(?:use|using) (?:it|them|that|this|the \w+) on {_ME}\b",
        self_anchored=True,
        requires="use using",
    ),
    rule(
        "plan_jump",
        "plan",
        0.7,
        "jump jumping front traffic sea ocean river lake water",
        r"\bjump(?:ing)? (?:off|from|in front of)\b(?: \w+){0,3}? (?:bridge|building|roof|"
        r"rooftop|cliff|train|balcony|window|overpass|tower|car|truck|bus)\b|\bstep(?:ping)? in "
        r"front of (?:a |the )?(?:train|bus|car|truck)\b|\bwalk(?:ing)? into (?:traffic|the "
        r"(?:sea|ocean|river|lake|water))\b",
        requires="jump jumping walk walking step stepping",
    ),
    rule(
        "plan_planned",
        "plan",
        0.6,
        "planned",
        r"\b(?:ive |i have |i )?planned (?:it|everything|my death|how|when|the whole thing)\b"
        r"(?: all)?(?: out)?",
    ),
    rule(
        "plan_on_edge",
        "means",
        0.6,
        "roof edge ledge railing tracks",
        r"\b(?:sitting|standing|stood|sat) on (?:the|a|this) (?:roof|rooftop|edge|ledge|railing|"
        r"tracks|bridge railing|edge of)|\b(?:went|walked|go|going|drove) (?:down |out )?to the "
        r"(?:train |railway )?tracks\b",
    ),
    rule(
        "plan_jump_ml",
        "plan",
        0.7,
        "saltar tirarme pular jogar sauter jeter springen buttarmi saltare",
        r"\b(?:voy a|quiero|pienso|vou|quero|je vais|je veux|ich will|ich werde|voglio|sto per|"
        r"ik ga|ik wil|will|werde) (?:\w+ )?(?:saltar|tirarme|pular|me jogar|sauter|me jeter|"
        r"springen|buttarmi|saltare)\b",
    ),
    rule(
        "plan_on_edge_ml",
        "means",
        0.6,
        "techo azotea puente edificio balcon toit pont "
        "immeuble dach brucke hochhaus telhado ponte predio tetto palazzo dak brug",
        r"\b(?:estoy en (?:el|la) (?:techo|azotea|puente|cornisa)|je suis sur (?:le|la) (?:toit|"
        r"pont|rebord)|ich (?:stehe|bin|sitze) auf (?:der|dem) (?:brucke|dach|hochhaus)|estou no "
        r"(?:telhado|ponte|topo)|sono sul (?:tetto|ponte)|ik sta op (?:de|het) (?:brug|dak))\b",
    ),
    rule(
        "plan_place",
        "means",
        0.6,
        "bridge building roof rooftop cliff tracks ledge spot place overpass edge",
        r"\b(?:know|found|picked|chose|chosen|checked|scouted|decided on)\b(?: \w+){0,3}? "
        r"(?:bridge|building|roof|rooftop|cliff|tracks|ledge|spot|place|overpass)\b|\b(?:keep "
        r"thinking about|been thinking about|went up to|walked up|stood on) the (?:roof|edge|"
        r"ledge|bridge|tracks)",
    ),
    rule(
        "means_possession",
        "means",
        0.6,
        _MEANS_A,
        r"\b(?:have|got|bought|ordered|collect(?:ing|ed)|sav(?:ing|ed)|stockpil(?:ing|ed)|"
        r"hoard(?:ing|ed)|hid|hiding|keep|keeping|found|holding|counted|counting|lined up|laid "
        r"out|stole|took out|sitting with|on my (?:lap|bed|desk))\b(?: \S+){0,4}? "
        rf"{_MEANS_STRONG}\b|\b{_MEANS_EN} (?:is |are )?(?:ready|on (?:my|the) (?:lap|bed|desk|"
        rf"table|counter|nightstand)|laid out|"
        r"counted out|lined up|in "
        r"front of me|next to me|in my (?:hand|pocket))\b",
    ),
    rule(
        "means_possession_weak",
        "means",
        0.4,
        _MEANS_A,
        r"\b(?:have|got|bought|hid|hiding|keep|keeping|found|holding|sharpened|took out)\b"
        rf"(?: \S+){{0,4}}? {_MEANS_EN}\b",
    ),
    rule(
        "means_intent",
        "plan",
        1.0,
        _MEANS_A,
        rf"\b{_MEANS_EN}\b(?: \S+){{0,6}}? (?:to (?:die|end it|hang|kil+|overdose)|for when im "
        r"ready|for when i decide)\b",
    ),
    rule(
        "means_in_hand_ml",
        "means",
        0.6,
        _MEANS_ML_A,
        rf"\b(?:con|avec|com|mit) (?:las|los|les|os|as|den|die|mes|mis|meus|minhas|meinen) "
        rf"{_MEANS_ML} (?:en la mano|a la main|na mao|in der hand|en mano)\b",
    ),
    rule(
        "means_ml",
        "means",
        0.7,
        _MEANS_ML_A,
        r"\b(?:tengo|compre|guarde|junte|juntando|ahorrando|j ai|achete|garde|devant moi|hab|"
        r"habe|gekauft|gesammelt|tenho|comprei|guardei|ho comprato|ho messo da parte|ik heb|"
        rf"gekocht|tous mes|toutes mes|alle meine)\b(?: \S+){{0,4}}? {_MEANS_ML}\b",
    ),
    rule(
        "plan_method_ml",
        "plan",
        1.0,
        "pendre jeter noyer tirer balle ouvrir sauter colgarme ahorcarme tirarme tiro venas "
        "enforcar jogar "
        "dar pulsos aufhangen aufhange erhangen erschiessen zug brucke pulsadern impiccarmi "
        "buttarmi spararmi vene ophangen verhangen doodschieten springen trein",
        r"\b(?:me (?:pendre|jeter (?:du|d un|de la|sous)|noyer|tirer une balle|ouvrir les "
        r"veines)|sauter (?:du|d un|de la|par la) (?:pont|toit|fenetre|falaise|immeuble)|"
        r"colgarme|ahorcarme|tirarme (?:de|del|por|a|bajo)|me (?:voy a|quiero|pienso) (?:tirar|"
        r"lanzar|arrojar) (?:de|del|por|a|bajo)|vou me jogar|pegarme un tiro|cortarme las venas|"
        r"me enforcar|me jogar (?:de|da|do|na|no|em)|me dar um tiro|cortar (?:os|meus) pulsos|"
        r"mich (?:\w+ ){0,3}(?:aufhangen|aufhange|erhangen|erschiessen)|vor (?:einen|den) zug|"
        r"von der brucke springen|pulsadern|impiccarmi|buttarmi (?:giu|dal|dalla|sotto)|"
        r"spararmi|tagliarmi le vene|mezelf (?:ophangen|verhangen|doodschieten)|voor de trein "
        r"(?:springen|gaan liggen|te springen))",
    ),
    # ---------------------------------------------------------------- overdose / attempt now
    rule(
        "attempt_overdosed",
        "attempt",
        1.0,
        "overdosed od odd overdose",
        r"\b(?:i |ive |i have |i just |just |already )(?:overdosed|od ?d|took an overdose)\b"
        r"(?! on (?:coffee|caffeine|sugar|chocolate|candy|netflix|tv|memes|carbs|cake|"
        r"vitamins?|love|cuteness|drama))",
    ),
    rule(
        "attempt_intake_done",
        "attempt",
        1.0,
        "took taken swallowed downed popped",
        r"\b(?:i |ive |i have |i just |just |already )(?:took|taken|swallowed|downed|popped)\s+"
        r"(?:all (?:of )?(?:my|the|his|her|mums?|moms?|dads?|\w+s) (?:\S+ )?(?:pills|tablets|"
        r"meds|medication|medicine|capsules|sleeping pills|painkillers)|all of them\b|"
        r"the (?:whole|entire) (?:bottle|pack|box|packet|strip)|"
        r"a (?:whole )?(?:bottle|handful|box|pack|bunch|lot) of\b|(?:too|so) many (?:of )?"
        r"(?:my )?(?:pills|tablets|meds|sleeping pills|painkillers)|"
        r"(?:like |about |around |maybe |over )?\d{2,} (?:of )?(?:my |the |her |his )?(?:\w+ )?"
        r"(?:pills|tablets|meds|tylenol|paracetamol|acetaminophen|ibuprofen|advil|aspirin|xanax|"
        r"benadryl|antidepressants|painkillers))",
    ),
    rule(
        "attempt_at_once",
        "attempt",
        1.0,
        "once time go",
        r"\b(?:take|taking|swallow|swallowing|down|ate|took|swallowed)\s+(?:all|every|the whole|"
        r"a bunch)\b.{0,40}\b(?:at once|at the same time|in one go)\b",
        requires="take taking swallow swallowing down ate took swallowed",
    ),
    rule(
        "attempt_intake",
        "attempt",
        0.7,
        "take taking took taken swallow swallowed swallowing downed popped ate",
        r"\b(?:take|taking|took|taken|swallow(?:ed|ing)?|downed|popped|ate)\s+(?:all (?:of )?"
        r"(?:my|the|his|her|them|these|those|mums?|moms?|dads?|\w+s)?\s*(?:\S+ )?(?:pills|"
        r"tablets|meds|medication|medicine|capsules|of them|sleeping pills|painkillers|"
        r"antidepressants|paracetamol|tylenol|acetaminophen|ibuprofen|xanax|insulin)|(?:them|"
        r"these|those) all\b|the (?:whole|entire) (?:bottle|pack|box|packet|strip|thing)|a "
        r"(?:whole )?(?:bottle|handful|bunch|box|pack) of\b|\d{2,} (?:pills|tablets|of))",
    ),
    rule(
        "attempt_poison",
        "attempt",
        1.0,
        "bleach antifreeze poison cleaner fluid killer",
        r"\b(?:i |ive |i just |just )(?:drank|drunk|swallowed|ingested|took|ate)\b(?: \w+){0,3}? "
        r"(?:bleach|antifreeze|poison|rat poison|weed killer|drain cleaner|lighter fluid)\b",
    ),
    rule(
        "attempt_kicking_in_effects",
        "attempt",
        1.0,
        "pills tablets meds overdose",
        r"\b(?:pills|tablets|meds|overdose) (?:are |is )?(?:kicking in|starting to work|taking "
        r"effect)\b.{0,60}\b(?:sleepy|dizzy|numb|sorry|cant feel|goodbye|scared|going dark)",
    ),
    rule(
        "attempt_kicking_in",
        "attempt",
        0.7,
        "pills tablets meds overdose",
        r"\b(?:pills|tablets|meds|overdose) (?:are |is )?(?:kicking in|starting to work|taking "
        r"effect|working)\b",
    ),
    rule(
        "attempt_intake_ml_done",
        "attempt",
        1.0,
        "tome tomei tomado pris genommen geschluckt preso ingoiato ingenomen genomen geslikt",
        r"\b(?:me tome|tome|tomei|me he tomado|he tomado|j ai (?:\w+ )?pris|j ai (?:\w+ )?avale|"
        r"(?:habe|hab) (?:\w+ ){0,3}(?:genommen|geschluckt)|ho (?:\w+ )?(?:preso|ingoiato)|heb "
        r"(?:\w+ ){0,2}(?:ingenomen|genomen|geslikt))\b(?: \w+){0,3}? (?:todos|todas|tous|toutes|"
        r"alle|tutte|tutti|la caja|a caixa|toda a caixa)|\b(?:habe|hab|ho|heb) (?:alle|tutte|"
        r"tutti|al) "
        r"(?:\w+ ){0,2}(?:genommen|geschluckt|preso|prese|ingoiato|ingenomen|geslikt)\b",
    ),
    rule(
        "attempt_intake_ml",
        "attempt",
        0.7,
        "tomar tome tomei tomado avale avaler pris genommen geschluckt preso ingoiato "
        "genomen geslikt tout",
        r"\b(?:tomar|tome|tomei|tomado|avale|pris|genommen|geschluckt|preso|ingoiato|genomen|"
        r"geslikt)\b(?: \w+){0,3}? (?:todos|todas|tous|toutes|alle|tutte|tutti|la caja|a "
        r"caixa|toda a caixa)|\btout (?:avaler|prendre)\b",
    ),
    # ---------------------------------------------------------------- self-harm now
    rule(
        "self_harm_act",
        "self_harm",
        0.6,
        "cut cutting burned burnt burning scratched scratching carved carving hit hitting "
        "punched punching harmed harming hurt hurting bit biting sliced",
        rf"\b(?:cut|cutting|burned|burnt|burning|scratched|scratching|carved|carving|hit|"
        rf"hitting|punched|punching|harmed|harming|hurt|hurting|bit|biting|sliced) (?:into |up |"
        rf"open |at )?(?:{_ME}|"
        r"my (?:\w+ )?(?:wrists?|arms?|legs?|thighs?|skin|stomach|hips?|ankles?|face|head|"
        r"hands?|chest|forearms?))\b(?! (?:shaving|cooking|on (?:a|the)|by accident|"
        r"accidentally|at (?:work|the gym)|playing))",
        requires="myself self mysalf meself myslef mysef mysefl wrist wrists arm arms leg legs "
        "thigh thighs skin stomach hip hips ankle ankles face head hand hands chest forearm "
        "forearms",
    ),
    rule(
        "self_harm_did",
        "self_harm",
        1.0,
        "cut relapsed relapse relapsing",
        r"\bi (?:just )?cut (?:again|tonight|today|last night|deep|deeper|really deep|so deep)\b"
        rf"|\b(?:just |i )cut {_ME} (?:really |so |too |very )?(?:deep|badly)\b"
        r"|\brelaps(?:e|ed|ing)\b(?: \S+){0,3}? (?:on |with )?(?:sh|self ?harm|cutting|"
        r"cut)\b",
    ),
    rule(
        "self_harm_ongoing",
        "self_harm",
        1.0,
        "cutting burning scratching hitting",
        r"\b(?:im|i am|i keep|started|ive been|been) (?:cutting|burning|scratching|hitting) "
        r"(?:myself |my \w+ )?(?:\w+ ){0,2}?(?:right now|rn|again|tonight|and i cant stop|"
        r"now|at the moment)\b",
    ),
    rule(
        "self_harm_till_bleed",
        "self_harm",
        1.0,
        "bleed bled bleeds bleeding",
        r"\b(?:cut|cutting|scratch(?:ed|ing)?|pick(?:ed|ing)?|burn(?:ed|ing|t)?|hit(?:ting)?|bit|"
        r"biting|dig(?:ging)?|bang(?:ed|ing)?|slam(?:med|ming)?|punch(?:ed|ing)?) (?:my|myself|"
        r"at my)\b(?: \w+){0,5}? (?:until|till|til|so) "
        r"(?:they|it|i) (?:bleed|bled|bleeds|was bleeding|were bleeding|started bleeding)",
    ),
    rule(
        "self_harm_relapse_now",
        "self_harm",
        0.7,
        "relapsed",
        r"\brelapsed (?:again |today |tonight |last night |this morning )",
    ),
    rule(
        "self_harm_urge_named",
        "self_harm",
        1.0,
        "want wanna wana need urge urges craving tempted itching",
        r"\b(?:want|wanna|wana|need|urge|urges|craving|tempted|itching)\b(?: \w+){0,2}? (?:to )?"
        r"(?:self ?harm|selfharm)\b",
        requires="self selfharm",
    ),
    rule(
        "self_harm_urge",
        "self_harm",
        0.6,
        "want wanna wana need urge urges craving tempted itching dying",
        r"\b(?:want|wanna|wana|need|urge|urges|craving|tempted|itching|dying)\b(?: \w+){0,2}? "
        rf"(?:to )?(?:cut(?= *(?:$|[.,!?]|so |rn|right|again|tonight|badly|really|deep|{_ME}|"
        r"my (?:wrists?|arms?|legs?|thighs?)))|self ?harm|sh\b|hurt my ?self|harm my ?self|"
        r"burn my ?self|relapse\b)",
        requires="cut sh selfharm self harm hurt burn relapse",
    ),
    rule(
        "self_harm_ml",
        "self_harm",
        1.0,
        "dano corte cortado cortar cortes lastime cortarme lastimarme coupe coupee scarifie "
        "scarifiee mal brule brulee mutile couper scarifier geritzt geschnitten verletzt "
        "verbrannt ritzen schneiden verletzen antun cortei machuquei feri queimei mutilee "
        "machucar ferir tagliata tagliato fatta fatto ferita ferito tagliarmi male gesneden "
        "gedaan verwond gekrast snijden doen couper mutiler farmi",
        r"\b(?:me (?:hice|he hecho|volvi a hacer) dano|me (?:corte|he cortado|volvi a cortar|"
        r"lastime)\b|(?:quiero|ganas de|necesito) (?:cortarme|hacerme dano|lastimarme)|cortes "
        r"nuevos|je me suis (?:encore |de nouveau |re)?(?:coupee?|scarifiee?|fait du mal|"
        r"brulee?|mutilee?)|(?:envie de|besoin de|veux) me (?:couper|scarifier|faire du mal|"
        r"mutiler)|(?:hab|habe) mich (?:\w+ ){0,3}(?:geritzt|geschnitten|verletzt|verbrannt)|"
        r"(?:will|muss|mochte) mich (?:\w+ ){0,2}(?:ritzen|schneiden|verletzen)|mir (?:etwas|"
        r"was) antun|me (?:cortei|machuquei|feri|queimei)\b|(?:quero|vontade de|preciso) me "
        r"(?:cortar|machucar|ferir)|mi sono (?:\w+ )?(?:tagliat[ao]|fatt[ao] del male|ferit[ao]"
        r")|(?:voglio|ho voglia di) (?:tagliarmi|farmi del male)|(?:heb|ik) mezelf (?:\w+ ){0,3}"
        r"(?:gesneden|pijn gedaan|verwond|gekrast)|(?:wil|moet) mezelf (?:snijden|pijn doen))",
    ),
    rule(
        "self_harm_ml_now",
        "self_harm",
        1.0,
        "cortandome lastimandome cortando haciendo lastimando coupe scarifie cortando machucando",
        r"\b(?:cortandome|lastimandome|me estoy (?:cortando|haciendo dano|lastimando)|je suis en "
        r"train de me (?:couper|scarifier)|(?:estou|to) me (?:cortando|machucando))\b",
    ),
    rule(
        "self_harm_holding",
        "means",
        0.6,
        "razor blade blades knife lighter scissors",
        r"\b(?:holding|have|got|grabbed|staring at|looking at) (?:a |the |my )?(?:razor|blade|"
        r"blades|knife|lighter|scissors)\b",
    ),
    # ---------------------------------------------------------------- goodbye / finality
    rule(
        "goodbye_this_is",
        "goodbye",
        1.0,
        "goodbye bye end last final",
        r"\bthis is (?:my )?(?:goodbye|good bye|bye|the end|my last (?:message|post|night|day|"
        r"goodbye)|my final (?:message|post|goodbye|words))\b|\bmy (?:last|final) (?:message|"
        r"post|goodbye|words)\b",
    ),
    rule(
        "goodbye_wont_be_alive",
        "goodbye",
        1.0,
        "alive around breathing here",
        r"\b(?:wont|will not|not going to|never going to|im not going to|not gonna) be (?:alive|"
        r"here|around|breathing) (?:tomorrow|much longer|anymore|any more|by (?:tomorrow|morning"
        r"|the weekend|then|monday|friday)|next (?:week|year|month)|for (?:long|much longer))\b",
        negation=False,
        requires="tomorrow longer anymore more morning weekend then monday friday next long",
    ),
    rule(
        "goodbye_by_the_time",
        "goodbye",
        1.0,
        "time",
        r"\bby the time (?:you|anyone|someone|somebody|they|people|u) (?:reads?|sees?|finds?|"
        r"gets?) (?:this|these|my)",
        requires="read reads see sees find finds get gets",
    ),
    rule(
        "goodbye_ill_be_gone",
        "goodbye",
        1.0,
        "gone",
        r"\b(?:ill|i will|i am going to|im going to|im gonna) be gone (?:by|tomorrow|soon|"
        r"forever|tonight|before)|\bi(?:ll| will) be gone\b(?=.{0,60}\b(?:fault|sorry|love))",
    ),
    rule(
        "goodbye_last_time",
        "goodbye",
        1.0,
        "last",
        r"\bthis (?:is|will be) the last time (?:ill|i will|youll|you will|anyone will|you all "
        r"will|im going to) (?:talk|hear|see|write|post|speak|be)\b",
    ),
    rule(
        "goodbye_wont_make_it",
        "goodbye",
        1.0,
        "make live survive see",
        r"\b(?:wont|will not|not going to|dont think ill|im not gonna) (?:make it|live|be alive|"
        r"survive) (?:to|until|till|through|past|another) (?:my birthday|christmas|tomorrow|the "
        r"weekend|next week|new year|morning|the end of|day|night|week)\b|\b(?:wont|will not|"
        r"not going to|never going to) see (?:another|next|the next) (?:christmas|birthday|year|"
        r"summer|winter|week|day|morning|spring)\b",
        negation=False,
        requires="wont not never dont see",
    ),
    rule(
        "goodbye_saying_bye",
        "goodbye_weak",
        0.5,
        "saying",
        r"\b(?:im|i am) (?:saying|here to say) (?:goodbye|bye|my goodbyes)\b",
    ),
    rule(
        "goodbye_dont_blame",
        "goodbye_weak",
        0.5,
        "blame upset sad angry cry guilty miss",
        r"\b(?:please )?(?:dont|do not) (?:blame (?:yourself|yourselves|anyone|my \w+|u)|be "
        r"(?:upset|sad|angry) (?:with me|at me)?|cry for me|feel guilty|miss me too much)\b",
        negation=False,
        requires="dont",
    ),
    rule(
        "goodbye_at_peace",
        "goodbye_weak",
        0.4,
        "peace",
        r"\b(?:im|i am|feel) (?:finally )?at peace with (?:it|my decision|this|dying|leaving)\b",
    ),
    rule(
        "goodbye_someone_know",
        "goodbye_weak",
        0.3,
        "wanted supiera soubesse ecrire weiss",
        r"\b(?:just )?wanted (?:someone|somebody|anyone|you all|you) to know\b|queria que "
        r"alguien (?:lo )?supiera|queria que alguem soubesse|voulais juste l ecrire|wollte nur, "
        r"dass (?:es )?jemand weiss",
    ),
    rule("goodbye_when_gone", "goodbye_weak", 0.4, "gone", r"\b(?:when|after|once) im gone\b"),
    rule(
        "goodbye_said_bye",
        "goodbye_weak",
        0.6,
        "goodbye goodbyes bye",
        r"\b(?:said|say|saying|said my|to say) (?:goodbyes?|bye) to (?:everyone|everybody|all|"
        r"you all|you|my (?:family|friends|mom|mum|dad|kids|parents|sister|brother|cat|dog))|"
        r"\b(?:said|say|saying|made) my goodbyes\b",
    ),
    rule(
        "goodbye_note_ready",
        "goodbye_weak",
        0.5,
        "note letter",
        r"\b(?:my |the )?(?:suicide |goodbye )?(?:note|letter|letters) (?:is|are) (?:on|in|ready|"
        r"written|under|next to|by|done|finished)\b",
    ),
    rule(
        "goodbye_said_everything",
        "goodbye_weak",
        0.5,
        "everything",
        r"\b(?:said|written|told you) everything i (?:needed|wanted|had) to (?:say|tell)",
        requires="say tell",
    ),
    rule(
        "goodbye_final_word",
        "goodbye_weak",
        0.5,
        "goodbye farewell",
        r"(?:^|[.!] )(?:goodbye|farewell|good bye)[.! ]*$",
    ),
    rule(
        "goodbye_last_night",
        "goodbye_weak",
        0.6,
        "last",
        r"\b(?:its|this is|tonight is) my last (?:night|day)\b(?! (?:at|in|of|on|before|with))",
        requires="night day",
    ),
    rule(
        "goodbye_thanks_chats",
        "goodbye_weak",
        0.4,
        "thanks thank",
        r"\bthank(?:s| you) for (?:the chats|listening|being there|all the (?:chats|talks)|"
        r"everything)\b",
        requires="chats listening there talks everything",
    ),
    rule(
        "goodbye_forever",
        "goodbye",
        1.0,
        "goodbye bye",
        r"\b(?:goodbye|bye) (?:forever|for good|for ever)\b|\bgoodbye (?:world|cruel world)\b",
    ),
    rule(
        "goodbye_everyone",
        "goodbye_weak",
        0.5,
        "goodbye farewell",
        r"\b(?:goodbye|good bye) (?:everyone|everybody|all|guys|friends)\b|\bfarewell\b",
    ),
    rule(
        "goodbye_gave_away",
        "goodbye_weak",
        0.6,
        "away",
        r"\b(?:given|gave|giving|give) away (?:all |most )?(?:of )?my (?:things|stuff|belongings|"
        r"possessions|clothes|books|pets?|dog|cat|plants|games|savings)",
    ),
    rule(
        "goodbye_letters",
        "goodbye_weak",
        0.6,
        "letters letter notes note",
        r"\b(?:wrote|written|writing|left|finished) (?:a |my |the |some )?(?:letters?|notes?|"
        r"goodbye (?:letters?|notes?))\b(?: (?:to|for))? (?:everyone|everybody|my|each|all)",
    ),
    rule(
        "goodbye_suicide_note",
        "goodbye",
        1.0,
        _SUI_A,
        rf"\b(?:wrote|written|writing|left|finished|my) (?:a |my )?{_SUI} (?:note|letter)",
    ),
    rule(
        "goodbye_arrangements",
        "goodbye_weak",
        0.5,
        "arrangements affairs papers documents passwords sorted sorting organised organized sure "
        "found paid",
        r"\b(?:made|making) (?:all )?(?:the |my )?arrangements\b|\bput (?:my )?affairs in order|"
        r"\bknows where (?:the|my) (?:\w+ )?(?:papers|documents|passwords|will)\b|\b(?:sorted|"
        r"sorting|organi[sz]ed) (?:out )?(?:my|all my) (?:affairs|finances|things|stuff)|"
        r"\bmade sure "
        r"(?:my|the) \w+ (?:will be|is|gets|are|will get) (?:looked after|taken care of|fed|"
        r"rehomed)|\bfound a (?:new )?home for my (?:cat|dog|pets?|\w+)|\bpaid (?:off|back) "
        r"(?:what i owe|my debts|everyone)",
        requires="arrangements affairs papers documents passwords finances things stuff looked "
        "taken fed rehomed home owe debts everyone",
    ),
    rule(
        "goodbye_take_care_for_me",
        "goodbye_weak",
        0.6,
        "care after feed walk",
        r"\b(?:take care of|look after|feed|walk) (?:my|the) (?:cat|dog|kids|plants|pets?|\w+) "
        r"(?:for me|when im gone|after im gone|once im gone)\b",
        requires="look take feed walk",
    ),
    rule(
        "goodbye_long_road",
        "goodbye_weak",
        0.5,
        "road journey fight",
        r"\bit(?:s| has) been a long (?:road|journey|fight)\b",
    ),
    rule(
        "goodbye_final_letters",
        "goodbye_weak",
        0.7,
        "final last goodbye",
        r"\b(?:writing|wrote|written|write|finished) (?:my |a |the )?(?:final|last|goodbye) "
        r"(?:letters?|notes?|messages?|words)\b",
        requires="writing wrote written write finished",
    ),
    rule(
        "goodbye_sorry_couldnt",
        "goodbye_weak",
        0.7,
        "sorry",
        r"\bim sorry i (?:couldnt|cant|wasnt strong enough to) (?:stay|keep going|hold on|be "
        r"stronger|do this anymore|keep fighting|stay longer)",
        requires="couldnt cant wasnt",
    ),
    rule(
        "goodbye_not_your_fault",
        "goodbye_weak",
        0.4,
        "fault",
        r"\b(?:its|it is|this is|its really) not (?:anyones|anybodys|your|yours|their|you guys|"
        r"your guys) fault\b|\bnobodys fault\b|\bno ones fault\b|\bno one is to blame\b",
    ),
    rule(
        "goodbye_thank_everything",
        "goodbye_weak",
        0.3,
        "everything trying",
        r"\bthank(?:s| you) (?:for everything|for trying|all for everything)\b",
        requires="thank thanks",
    ),
    rule(
        "goodbye_not_logging",
        "goodbye_weak",
        0.6,
        "logging log signing checking coming come",
        r"\b(?:wont|will not|never|not going to) (?:be )?(?:logging|log|coming|signing|checking)"
        r" (?:on|in|back)\b(?:[ ,]+\w+){0,2}?[ ,]+(?:ever|again after|anymore|after tonight)"
        r"|\bnever (?:log|come) (?:on|in|back) again\b",
        requires="wont never not",
    ),
    rule(
        "goodbye_before_i_die",
        "goodbye_weak",
        0.4,
        "before",
        r"\bbefore i (?:die|go|leave)\b(?! (?:for|to|on|at|in|home|work|school))",
    ),
    rule(
        "goodbye_ml",
        "goodbye",
        1.0,
        "seguir siempre ultima ultimo dernier serai saro letzte mehr estar adeus laatste "
        "afscheidsbrief abschiedsbrief despedida",
        r"\b(?:no voy a seguir (?:viv[ao]|aqui|viviendo)|(?:chau|adios) para siempre|la ultima "
        r"vez que me (?:van a|vas a) (?:leer|ver)|mi ultimo mensaje|mon dernier message|"
        r"je ne serai plus (?:la|en vie)|non ci saro piu|il mio ultimo messaggio|meine letzte "
        r"nachricht|(?:ich werde|bin|bin ich|werde ich) (?:morgen |bald |dann )?nicht mehr "
        r"(?:da|hier|am leben)|"
        r"minha ultima mensagem|nao vou (?:mais )?estar (?:aqui|viv[ao])|adeus (?:para sempre|"
        r"a todos)|mijn laatste bericht|afscheidsbrief|abschiedsbrief|carta de despedida)",
    ),
    rule(
        "intent_to_die_ml",
        "ideation",
        1.0,
        "para pra pour um per om",
        r"\b(?:(?:para|pra) (?:morrer|morir|me matar|matarme)|pour (?:mourir|me tuer)|um (?:zu "
        r"sterben|mich umzubringen)|per (?:morire|uccidermi|farla finita)|om (?:dood te gaan|te "
        r"sterven))\b",
    ),
    rule(
        "goodbye_ml_weak",
        "goodbye_weak",
        0.6,
        "despedi ordenado listo orden carta addio adieu vaarwel wohl",
        r"\b(?:me despedi de todos|deje todo (?:ordenado|listo|en orden)|escribi una carta a|"
        r"addio|adieu|vaarwel|lebt wohl)\b",
    ),
    # ---------------------------------------------------------------- despair (weak)
    rule(
        "despair",
        "despair",
        0.3,
        "point reason cant better hopeless burden without aguanto peux kann aguento faccio kan "
        "done seguir",
        r"\b(?:(?:im|i am) (?:so |just |fucking |completely )?done(?=[.!,]|$| with (?:life|"
        r"everything|it all|living|this life|all of this))|no quiero seguir asi|no (?:point|"
        r"reason) (?:in|to) "
        r"(?:living|going on|anything|trying|life|any of this)"
        r"|cant (?:go on|do this anymore|keep going|take (?:it|this) anymore)|(?:nothing|it) "
        r"(?:will|is gonna|is going to) (?:ever )?get better|hopeless|im (?:just )?a burden|"
        r"(?:better|easier) without me|ya no aguanto|j en peux plus|ich kann nicht mehr|nao "
        r"aguento mais|non ce la faccio piu|ik kan niet meer)",
    ),
    # ---------------------------------------------------------------- danger from others now
    rule(
        "danger_threat_explicit",
        "danger",
        1.0,
        "threatening threatens threatened threaten",
        r"\bthreaten(?:ing|s|ed)? (?:to )?(?:hurt|kil+|beat|stab|shoot|rape|strangle|choke|"
        r"murder) (?:me|us|my)\b",
        subject=False,
        humor=True,
    ),
    rule(
        "danger_threat",
        "danger",
        0.6,
        "said says saying told swears swear screaming yelling shouting keeps nobody one regret "
        "when",
        r"\b(?:saying|says|said|told me|swears?|screaming|yelling|shouting|keeps saying)\b"
        r"(?: \w+){0,3}? (?:(?:hes|he is|shes|she is|theyre|they are|hell|shell|theyll|he will|"
        r"she will|they will|he would|hed|going to|gonna|gon|to|that)\s+)+(?:hurt|kil+|beat|stab"
        r"|shoot|rape|strangle|choke|end|murder|get) (?:me|us)\b|\bnobody will (?:ever )?find "
        r"(?:me|my body)\b|\bno one will (?:ever )?find (?:me|my body)\b|\bi(?:ll| will) "
        r"regret it\b|\bwhen (?:he|she|they) (?:comes?|gets?) (?:back|home),? (?:im|i am|ill be)"
        r" dead\b",
        subject=False,
        humor=True,
        requires="hurt kill kil beat stab shoot rape strangle choke murder find regret dead",
    ),
    rule(
        "danger_threat_ml",
        "danger",
        0.7,
        "tuer frapper buter mal umbringen toten schlagen "
        "abstechen matar pegar lastimar bater machucar ammazza uccide matarme pegarme",
        r"\b(?:(?:va|vont|veut|allait) (?:me|nous) (?:tuer|frapper|buter|faire du mal)|(?:will|"
        r"wird|droht)\b(?: \w+){0,3}? (?:mich|uns) (?:umbringen|toten|schlagen|abstechen)|"
        r"(?:me|nos) (?:va a|quiere|amenaza con) (?:matar|pegar|lastimar)|amenaza con "
        r"(?:matarme|pegarme)|(?:vai|quer|ameaca|ameacou) (?:me|nos) (?:matar|bater|machucar)|"
        r"(?:vuole|minaccia di|dice che) (?:mi|ci) (?:ammazza|uccide))",
        subject=False,
    ),
    rule(
        "danger_hiding",
        "danger",
        0.6,
        "hiding locked barricaded trapped shut",
        r"\b(?:i(?:m| am|ve| have)?|we(?:re| are)?|just|currently) (?:\w+ ){0,2}(?:hiding|"
        r"locked|barricaded|trapped|shut) (?:\w+ )?(?:in|inside|under|behind|myself|ourselves)\b"
        r"|\blocked (?:myself|ourselves|me and)\b(?! out)|\bwith the doors? locked\b|\bhiding "
        r"(?:under|in|behind) (?:my|the|a)\b",
        subject=False,
    ),
    rule(
        "danger_hiding_place",
        "danger",
        0.5,
        "closet wardrobe bathroom",
        r"\b(?:im|i am|were|we are) (?:in|inside|under) (?:my|the|our) (?:closet|wardrobe|"
        r"bathroom)\b",
        subject=False,
    ),
    rule(
        "danger_hiding_ml",
        "danger",
        0.6,
        "cache cachee caches cachees enferme enfermee enfermes enfermees refugie refugiee "
        "refugies refugiees barricade barricadee barricades barricadees eingeschlossen "
        "eingesperrt versteckt verstecke verbarrikadiert escondida escondido escondidas "
        "escondidos encerrada encerrado encerradas encerrados atrapada atrapado atrapadas "
        "atrapados escondi encerre trancada trancado trancadas trancados tranquei nascosta "
        "nascosto nascosti nascoste chiusa chiuso opgesloten verstopt verschuil",
        r"\b(?:je suis (?:\w+ )?(?:cachee?|enfermee?|refugiee?|barricadee?)s?|je me suis "
        r"(?:cachee?|enfermee?)|on est (?:cache|enferme)s?|eingeschlossen|eingesperrt|"
        r"verstecke mich|versteckt|verbarrikadiert|(?:estoy|estamos) (?:\w+ )?(?:escondid[ao]s?|"
        r"encerrad[ao]s?|atrapad[ao]s?)|me (?:escondi|encerre)|(?:estou|to|estamos) (?:\w+ )?"
        r"(?:escondid[ao]s?|trancad[ao]s?)|me tranquei|(?:sono|siamo) (?:\w+ )?(?:nascost[ao]|"
        r"chius[ao] a chiave)|mi sono chius[ao]|opgesloten|verstopt|verschuil)\b",
        subject=False,
    ),
    rule(
        "danger_aggressor_now",
        "danger",
        0.5,
        "drunk hitting beating punching kicking choking strangling screaming yelling trying "
        "outside banging breaking smashing following coming waiting angry raging armed high "
        "threatening",
        r"\b(?:hes|he is|shes|she is|theyre|they are|my \w+(?: \w+)? is|(?:a|the|this|some) "
        r"(?:man|guy|stranger|dude|person|woman|men|guys)(?: \w+)? (?:is|are|keeps?)|someone is|"
        r"somebody is|there is a (?:man|guy)|theres a (?:man|guy|stranger|"
        r"car))\s+(?:\w+ )?(?:drunk|hitting|beating|punching|"
        r"kicking|choking|strangling|screaming|yelling|trying to (?:get|break|come|open)|outside|"
        r"banging|breaking|smashing|following|coming (?:up|back|home|for|in|after)|waiting "
        r"(?:for me|outside)|threatening|angry|raging|high\b|armed)",
        subject=False,
    ),
    rule(
        "danger_door",
        "danger",
        0.5,
        "handle door window lock trying leave away out escape",
        r"\b(?:keeps|keep|is|are|started) (?:trying|banging|knocking|pounding|kicking|hitting|"
        r"rattling)(?: \w+){0,2}? (?:the |on |at |my )*(?:handle|door|window|lock)\b|\btrying to"
        r" (?:get|break) (?:into|in)\b|\b(?:wont|will not|refuses to) (?:leave|go away|let me "
        r"(?:leave|out|go))\b|\b(?:i )?(?:cant|can not|cannot) (?:get out|escape|get away|leave)"
        r"\b",
        subject=False,
    ),
    rule(
        "danger_hit_just",
        "danger",
        0.5,
        "punched hit slapped choked strangled kicked pushed "
        "shoved grabbed smashed broke threw beat hurt",
        r"\b(?:just|has just|already)\s+(?:punched|hit|slapped|choked|strangled|kicked|pushed|"
        r"shoved|grabbed|smashed|broke|threw|beat)\b(?: \w+){0,3}? (?:me|my|a hole|the door|the "
        r"wall|us)\b|\blast time (?:he|she|they) (?:choked|hit|beat|hurt|strangled|broke)\b",
        subject=False,
    ),
    rule(
        "danger_fear_killed",
        "danger",
        0.7,
        "scared afraid terrified worried",
        r"\b(?:scared|afraid|terrified|worried) (?:that )?(?:he|she|they|hes|shes|theyre)(?:ll| "
        r"will| is going to| is gonna| s going to| s gonna| going to| gonna)? (?:kill|hurt|beat|"
        r"rape|strangle) (?:me|us)\b",
        subject=False,
    ),
    rule(
        "danger_intruder",
        "danger",
        0.5,
        "broke breaking break",
        r"\b(?:someone|somebody|a man|a guy|he|they|people)(?: just)? (?:broke|is breaking|are "
        r"breaking|tried to break|has broken) (?:in|into)\b",
        subject=False,
    ),
    rule(
        "danger_blocking",
        "danger",
        0.5,
        "blocking",
        r"\b(?:blocking|standing in) (?:the|my) (?:door|doorway|way|exit)\b",
        subject=False,
    ),
    rule(
        "danger_abduction",
        "danger",
        1.0,
        "grabbed pulled dragged forced pushed threw",
        r"\b(?:grabbed|pulled|dragged|forced|pushed|threw|shoved) me (?:\w+ ){0,2}(?:into|in) "
        r"(?:his|her|their|a|the) (?:car|van|truck|room|house|trunk|boot)\b",
        subject=False,
    ),
    rule(
        "danger_with_weapon",
        "danger",
        0.5,
        "gun knife weapon machete bat hammer",
        r"\bwith (?:a|his|her|their) (?:gun|knife|weapon|machete|bat|hammer|rifle|pistol)\b",
        subject=False,
    ),
    rule(
        "danger_hurting_me_ml",
        "danger",
        1.0,
        "pegando golpeando lastimando ahorcando frappe batendo schlagt picchiando slaat",
        r"\b(?:(?:me|nos) (?:esta|estan) (?:pegando|golpeando|lastimando|ahorcando)|me (?:esta|"
        r"ta) batendo|(?:il|elle) (?:me frappe|est en train de me frapper)|(?:er|sie) schlagt "
        r"mich|mi sta picchiando|hij slaat mij)\b",
        subject=False,
    ),
    rule(
        "danger_locked_in_by",
        "danger",
        0.6,
        "enfermee enferme sequestree encerrado "
        "encerrada eingesperrt trancou chiuso chiusa opgesloten",
        r"\b(?:m a (?:enfermee?|sequestree?)|me (?:ha|han) encerrado|hat mich eingesperrt|me "
        r"trancou|mi ha chius[ao]|heeft me opgesloten)\b",
        subject=False,
    ),
    rule(
        "danger_trapped_ml",
        "danger",
        0.5,
        "salir sortir raus sair uscire",
        r"\b(?:no puedo salir|je ne peux pas sortir|je peux pas sortir|ich kann nicht raus|nao "
        r"consigo sair|non posso uscire)\b",
        subject=False,
        negation=False,
    ),
    rule(
        "danger_choking",
        "danger",
        1.0,
        "hands hand choking strangling",
        r"\b(?:hes|shes|he is|she is|theyre|he has|she has)(?: got)? (?:his|her|their) hands? "
        r"(?:on|around) my (?:neck|throat)\b|\b(?:is|are|s|keeps) (?:choking|strangling) me\b",
        subject=False,
        requires="neck throat me",
    ),
    rule(
        "danger_intruder_inside",
        "danger",
        0.6,
        "someone somebody stranger man guy",
        r"\b(?:someone|somebody|a stranger|a man|a guy|some guy|people)(?: is| s|s)? (?:in|inside|"
        r"downstairs in|in the) (?:my|the) (?:house|apartment|flat|room|building|home|garden|"
        r"yard)\b",
        subject=False,
        requires="house apartment flat room building home garden yard",
    ),
    rule(
        "danger_intoxicated",
        "danger",
        0.5,
        "drinking drunk high",
        r"\b(?:hes|shes|he has|she has|theyve|they have) been (?:drinking|drunk|using|smoking)|"
        r"\b(?:hes|shes|he is|she is) (?:so |really |very )?(?:drunk|high|wasted)\b|\bmy \w+s "
        r"(?:so |really |very )?(?:drunk|high|wasted)\b",
        subject=False,
    ),
    rule(
        "danger_fear",
        "danger",
        0.3,
        "scared terrified afraid frightened",
        r"\b(?:im|i am) (?:so |really |very |fucking )?(?:scared|terrified|afraid|frightened)\b"
        r"(?! (?:of|about|for) (?:my|the|an?|exams?|failing|spiders|heights|tests?|flying))",
        subject=False,
    ),
    rule(
        "danger_worse_threat",
        "danger",
        0.5,
        "worse again back",
        r"\b(?:said|says|threatened|swore|swears) (?:that )?(?:hell|he will|shell|she will|theyll|"
        r"they will|he would|hed) (?:do (?:worse|it again|something worse)|come back (?:for me|"
        r"and))",
        subject=False,
        requires="said says threatened swore swears",
    ),
    rule(
        "danger_hear_him",
        "danger",
        0.4,
        "hear heard",
        r"\bi (?:can )?hear (?:footsteps|someone|somebody|a man|(?:him|her|them) (?:coming|"
        r"outside|in the|yelling|screaming|walking|"
        r"on the stairs|looking|banging))|\bheard (?:him|her) (?:looking for|coming|getting)",
        subject=False,
    ),
    rule(
        "danger_weapon",
        "danger",
        0.5,
        "knife gun weapon bat hammer keys pistol rifle",
        r"\b(?:he|she|they|hes|shes|theyre|my \w+) (?:has|got|grabbed|is holding|took|is looking "
        r"for|"
        r"went to get|is waving|pulled)(?: \w+)? (?:a |my |the |his |her |their )?(?:knife|gun|"
        r"weapon|bat|hammer|pistol|rifle)\b|\b(?:he|she) has the keys\b",
        subject=False,
    ),
    rule(
        "danger_ml_act",
        "danger",
        0.5,
        "train pegandome golpeando gritando batendo schlagt schreit picchiando",
        r"\b(?:en train de (?:frapper|taper|casser|me frapper|hurler|defoncer)|(?:esta|anda) "
        r"(?:pegandome|golpeando|gritando)|(?:esta|ta) (?:me batendo|batendo)|(?:schlagt|"
        r"schreit) (?:mich|uns|meine)|sta (?:picchiando|urlando))\b",
        subject=False,
    ),
    rule(
        "danger_ml_state",
        "danger",
        0.5,
        "betrunken besoffen bewaffnet messer waffe pistole "
        "borracho armado cuchillo arma pistola bebado faca ubriaco armato coltello couteau "
        "arme armee ivre bourre bourree saoul saoule",
        r"\b(?:(?:il|elle) (?:a|est) (?:un couteau|une arme|armee?|ivre|bourree?|saoule?)|(?:ist|"
        r"sind) (?:betrunken|besoffen|bewaffnet)|hat (?:ein|eine|einen) (?:messer|waffe|pistole)"
        r"|(?:esta|anda) (?:borracho|armado)|tiene un (?:cuchillo|arma|pistola)|(?:esta|ta) "
        r"(?:bebado|armado)|tem uma (?:faca|arma)|(?:e|sta) (?:ubriaco|armato)|ha un coltello)"
        r"\b",
        subject=False,
    ),
    rule(
        "danger_hurting_me",
        "danger",
        1.0,
        "hurting hitting attacking following chasing "
        "touching raping beating choking strangling punching kicking slapping stabbing shoving "
        "dragging",
        r"\b(?:someone|somebody|he|she|they|hes|shes|theyre|a man|a guy|my \w+(?: \w+)?)"
        r"(?: is| are|s| keeps)? "
        r"(?:hurting|hitting|attacking|following|chasing|raping|beating|choking|strangling|"
        r"punching|kicking|slapping|stabbing|shoving|dragging) me\b"
        r"(?:.{0,20}\b(?:right now|now|rn|again))?",
        subject=False,
        requires="me",
    ),
    # ---------------------------------------------------------------- amplifiers
    rule(
        "now_timing",
        "now",
        0.4,
        "tonight tomorrow tmrw tmr weekend week monday tuesday wednesday thursday friday "
        "saturday sunday hour soon asleep sleeping bed birthday midnight noche manana soir gone "
        "work out "
        "demain nacht morgen wochenende noite hoje amanha stanotte stasera domani vannacht",
        rf"\b{_TIME}\b",
        negation=False,
        past=False,
        subject=False,
    ),
    rule(
        "now_recent",
        "now",
        0.4,
        "again tonight rn now ago bleeding morning night bad badly unbearable acabei "
        "acabo viens gerade appena net",
        r"\b(?:again|tonight|just now|rn|right now|last night|this morning|still "
        r"bleeding|cant stop the bleeding|wont stop bleeding|\d+ (?:mins?|minutes|hours?|hrs?) "
        r"ago|an hour ago|so bad|so badly|"
        r"unbearable|acabei de|acabo de|je viens d|gerade|ho appena|ik heb net)\b",
        negation=False,
        past=False,
        subject=False,
    ),
    rule(
        "decided_where_how",
        "decided",
        0.5,
        "know do",
        r"\bi know (?:exactly )?(?:where|how|when) (?:ill|i will|im going to|to|i can) "
        r"(?:do it|go|jump|end it)\b|\b(?:ill|i will|im going to|gonna) do it (?:tonight|tomorrow|"
        r"soon|this weekend|when|after|before)\b",
        negation=False,
        past=False,
        subject=False,
        requires="where how when tonight tomorrow soon weekend after before",
    ),
    rule(
        "decided_right_time",
        "decided",
        0.5,
        "time",
        r"\b(?:feels like|it is|its|this is) the right time\b",
        negation=False,
        past=False,
        subject=False,
    ),
    rule(
        "decided_happening",
        "decided",
        0.5,
        "happening happen",
        r"\bits (?:happening|going to happen|gonna happen) (?:tonight|today|tomorrow|soon|now)\b"
        r"|\bim ready to go\b",
        negation=False,
        past=False,
        subject=False,
    ),
    rule(
        "decided_the_day",
        "decided",
        0.5,
        "tonight tonights today todays tomorrow tomorrows sure fix solve",
        r"\b(?:tonight|today|tomorrow)s? (?:is )?the (?:night|day)\b|\bmade sure of (?:that|it)\b|"
        r"\b(?:going to|gonna|will) (?:fix|solve|end) (?:that|it|this|everything|the problem)"
        r"(?: for good| permanently| tonight| soon)\b",
        negation=False,
        past=False,
        subject=False,
    ),
    rule(
        "decided",
        "decided",
        0.5,
        "decided ready time mind back night day",
        r"\b(?:ive|i have|i) (?:finally )?decided\b|\bim ready\b|\b(?:tonight|today) is the "
        r"(?:night|day)\b|\bi think im ready\b|\bits "
        r"time\b(?=[.!]|$)|\bmade up my mind\b|\bno going back\b",
        negation=False,
        past=False,
        subject=False,
    ),
]

# Core rules are indexed for every message; amplifiers are looked up only after a core hit.
CRISIS_RULES = RuleSet([r for r in _R if r.family not in AMPLIFIERS])
AMPLIFIER_RULES = RuleSet([r for r in _R if r.family in AMPLIFIERS])

# Context patterns the veto checks in ``crisis.py`` use (data, kept with the rules).
HUMOR = re.compile(
    r"\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|jk|jking|j k|just kidding|"
    r"kidding|joking|kkk+|jaja\w*|jeje\w*|mdr|ptdr|xd|hihi\w*)\b|[\U0001F602\U0001F923\U0001F606\U0001F605\U0001F643"
    r"\U0001F480]"
)
NOT_JOKING = re.compile(r"\b(?:not|no|aint|isnt) (?:joking|kidding|a joke|jk)|\bno joke\b")
MEDIA = re.compile(
    r"\b(?:movie|movies|film|show|series|episode|season|book|novel|chapter|character|"
    r"characters|game|games|level|boss|song|lyrics|album|news|article|podcast|anime|manga|"
    r"fic|fanfic|poem|scene|actor|actress|author|villain|protagonist|npc|quest|respawn\w*)\b"
)
ASKED = re.compile(r"\b(?:asked|asks|asking|ask)(?: \w+){0,3}? (?:if|whether)\b")
BENIGN_MEANS = re.compile(
    r"\b(?:climbing|camping|hiking|sailing|boat|swing|gym|hunting (?:season|trip|with)|"
    r"(?:go|going|went) hunting|shooting range|cooking|kitchen|chef|"
    r"baking|shaving|pharmacy|prescription|doctor|vet|garden|gardening|diy|crafts?|tent|"
    r"fishing|workshop|knife set|pocket knife|allergy|vitamins?)\b"
)
# A whole sentence typed with spaced letters folds into one long word ("iwanttodie").
BLOB_RISK = re.compile(
    r"kil+(?:ing)?my ?self|wan(?:t|na)(?:to)?(?:die|bedead)|end(?:ing)?mylife|hang(?:ing)?myself|"
    r"su+i?[cs]+i?d(?:e|al)|unaliv|selfharm|cutmyself|hurtmyself|takemylife"
)
BLOB_MIN = 9
BYE = re.compile(
    r"\b(?:bye|goodbye|good bye|farewell|adios|adieu|tschuss|ciao|tchau|chau|doei|addio|adeus"
    r"|thank(?:s| you) for everything|love you all|take care of yourselves|its time|so long)\b"
)
