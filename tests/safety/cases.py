"""Hand-written cases for the content filters (written for these tests, not from the devset).

Each list names a category of the labelling guide; tests assert every case in it.
"""

from __future__ import annotations

CRISIS_POSITIVE: dict[str, list[str]] = {
    "explicit": [
        "i really want to kill myself tonight",
        "i'm going to end my life this weekend",
        "honestly i just want to die, nothing helps",
        "thinking about suicide again, it won't stop",
        "i feel suicidal and i don't know what to do",
        "quiero matarme, ya no puedo más",
        "je pense sérieusement à me suicider",
        "ich will mich umbringen",
        "eu quero me matar, não aguento mais",
        "voglio morire, non ce la faccio",
        "ik wil dood, ik kan niet meer",
    ],
    "passive": [
        "i hope i just don't wake up tomorrow",
        "it would be easier if i wasn't alive anymore",
        "everyone would be better off without me",
        "i wish i was dead tbh",
        "so tired of being alive",
        "ojalá pudiera dormir y no despertar",
    ],
    "plan_means": [
        "i've been saving up my pills and tonight i'm taking all of them",
        "bought a rope yesterday. i know where i'll do it",
        "i'm standing on the bridge right now, i'm going to jump off the bridge",
        "i have my dad's gun on my desk and i'm ready",
        "j'ai acheté des médicaments pour en finir",
    ],
    "attempt": [
        "i already took the whole bottle of tylenol",
        "i just overdosed, i'm scared",
        "took 30 pills about an hour ago",
    ],
    "goodbye": [
        "this is my last message. thank you for everything",
        "by the time anyone reads this i'll be gone",
        "i won't be around tomorrow. it's not anyone's fault",
        "goodbye forever everyone",
    ],
    "self_harm_now": [
        "i cut myself again tonight, it's still bleeding",
        "i really want to cut right now, i have the blade",
        "relapsed on self harm today after 3 months",
        "me volví a cortar anoche",
        "ich habe mich heute wieder geritzt",
    ],
    "danger_now": [
        "he's threatening to kill me, i'm hiding in the closet",
        "my stepdad is drunk and banging on my door, i locked myself in",
        "someone is following me right now and i'm scared",
        "il est en train de frapper la porte et il a un couteau",
    ],
    "euphemism_obfuscated": [
        "gonna unalive myself tbh",
        "kms. i mean it",
        "ready to ctb tonight",
        "i want to k.i.l.l myself",
        "i w4nt to d1e",
        "thinking about ѕuісіdе all day",
        "i want to diiiie",
        "i want to self-delete",
    ],
}

CRISIS_NEGATIVE: dict[str, list[str]] = {
    "idiom": [
        "this homework is killing me",
        "my laptop battery died again",
        "i'd kill for a coffee right now",
        "lol i'm dead 😂 that video",
        "the traffic today was murder",
        "dying to see the new season",
        "ce prof me tue",
        "me muero de risa",
        "ich sterbe vor Hunger",
        "that joke killed me lmao",
    ],
    "recovery_past": [
        "two years ago i tried to kill myself, today i'm in a good place",
        "i used to self harm as a teenager, i'm doing well now",
        "hace tres años quise suicidarme, hoy estoy bien",
        "proud that i haven't cut in 400 days",
    ],
    "third_person_media": [
        "in the book the main character kills himself and it wrecked me",
        "the news said two people died in the crash",
        "my character died in the game again",
        "my cousin's friend died by suicide last year, the family is struggling",
    ],
    "listener": [
        "are you thinking about killing yourself?",
        "have you hurt yourself today?",
        "do you have a plan to end your life?",
        "if you feel unsafe, please call 988",
    ],
    "negation": [
        "i'm not suicidal, just sad",
        "i don't want to die, i want things to change",
        "no thoughts of hurting myself, just stressed",
        "je ne veux pas mourir, je suis juste fatiguée",
    ],
    "benign": [
        "took my meds this morning",
        "shaving cut on my chin lol",
        "goodnight all, see you tomorrow",
        "bye for now, heading to work",
        "my grandma passed last week and i miss her",
        "we watched a documentary about guns",
        "i'm ready for the weekend!",
    ],
}

TRAUMA_POSITIVE: list[str] = [
    "i need to get this out. when i was nineteen my roommate's boyfriend attacked me in the "
    "kitchen. he grabbed me by the hair and slammed my face into the counter, and i felt my "
    "nose crack and blood poured down over my lips and onto the floor. he kicked me in the "
    "ribs while i was down and i heard something snap. there was blood smeared on the tiles "
    "where i tried to crawl away. i had two broken ribs and stitches above my eye. i'm safe "
    "now but i still can't stand in that kind of kitchen.",
    "the car in front of us flipped on the highway and i was the first one to reach it. the "
    "driver was hanging upside down in his seatbelt and his arm was bent backwards with the "
    "bone poking through the skin. there was blood dripping from his scalp onto the roof of "
    "the car and pooling under his head. glass was stuck in his face. he kept trying to talk "
    "but only blood came out of his mouth. the paramedics cut him out but he died at the "
    "scene. i keep seeing his eyes when i close mine, every single night since it happened.",
]

TRAUMA_NEGATIVE: list[str] = [
    "i want to talk about something heavy but i'm not going to go into details. i was abused "
    "as a kid by someone in my family and i've spent years in therapy working through it. "
    "this week my therapist and i talked about forgiveness and i realised i don't owe anyone "
    "that. i'm proud of how far i've come, i have a partner who is kind and a job i like, "
    "and most days the past feels far away. some days it doesn't, and today is one of those.",
    "long day. my manager yelled at me in front of the whole team for a mistake that wasn't "
    "mine, and then my bus broke down and i had to walk home in the rain. when i got home my "
    "flatmate had eaten my leftovers again and left the sink full of dishes. i know none of "
    "this is the end of the world but i'm so tired of feeling like nobody respects me, at "
    "work or at home. i just want one week where things go okay. sorry for the rant, thanks.",
]
