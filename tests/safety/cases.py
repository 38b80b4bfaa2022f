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
    "assorted": [
        "i don't see the point of living anymore",
        'nobody would even notice if i disappeared for good',
        "i'm done. i'm going to do it tonight",
        'i keep looking at the pills in the drawer, i think tonight is the night',
        'i want it all to stop. permanently',
        "i'm sitting on the roof edge right now",
        'just swallowed a bunch of my sleeping pills',
        "i slit my wrist and it won't stop bleeding",
        "please help, my boyfriend is hitting me and i can't get out",
        "my dad has a knife and says he'll kill us all",
        "there's a guy outside my window and he won't go away",
        "can't stop thinking about hanging myself",
        "i've planned it all out, the date is friday",
        "i'd rather be dead than go back there",
        'i just wanna disappear forever and never come back',
        "i think i'm going to kill myself",
        'no quiero vivir más',
        'ya no quiero estar aquí, mañana me voy a tirar del puente',
        'je vais me tuer ce soir',
        "j'ai envie de mourir",
        'ich will nicht mehr leben',
        'morgen bin ich nicht mehr da',
        'não quero mais viver, vou tomar todos os comprimidos hoje',
        'voglio farla finita stanotte',
        "i'm going to take all my antidepressants at once",
        'i keep burning myself with a lighter, did it again just now',
        'sorry everyone, this is goodbye',
        "tell my sister i love her. i won't be here much longer",
        'i feel like dying every day and today i want to act on it',
        "can't do this anymore. i've got the rope ready",
        "every night i pray i won't wake up",
        'honestly death sounds peaceful right now',
        "i'm gonna jump in front of a train tomorrow morning",
        'i need to die. i mean it',
        'i have a plan and the means, i just need the courage',
        "i've been thinking of ways to kill myself all day",
        "there's no way out except dying",
        "what's the point in staying alive",
        'the only way out is to end it',
        "i'm cutting right now and i can't stop",
        'i burned my arm with a cigarette 10 mins ago',
        "he grabbed me by the neck and now he's blocking the door, i'm scared he'll kill me",
        'my husband is beating me right now',
        "someone broke into my apartment and i'm hiding in the bathroom",
        'i just took like 40 of my sleeping pills',
        'tonight is the night. goodbye everyone',
        "i wish i'd never been born",
        "i'm tired of fighting, i want to go to sleep forever",
        "i've made my peace, this is the end for me",
        'me quiero morir',
        'pienso en quitarme la vida',
        'je veux en finir',
        'ich möchte sterben',
        'quero morrer',
        'non voglio più vivere',
        'ik wil er niet meer zijn',
        'tengo las pastillas y esta noche me las tomo todas',
        "j'ai des idées suicidaires tous les jours",
        'ich denke jeden tag an suizid',
        "i've written letters to my kids and put my affairs in order. i'm at peace with it now",
        "this is the last time i'll talk to anyone here. thank you for being kind",
        "i'm saying goodbye now. please don't blame yourselves",
        "i won't make it to my birthday next week and honestly that's a relief",
        "i'm not going to be here much longer",
        'i swallowed a bottle of pills 20 minutes ago and i feel weird',
        'i just drank bleach',
        "i can feel the pills kicking in, i'm getting sleepy, i'm sorry",
        'my ex is outside my house with a gun',
        "my dad is screaming that he'll kill me and he's kicking my door",
        "i'm in the car, he's chasing me and i can't lose him",
        "a man grabbed me and pulled me into his car, i'm texting from the back seat",
        'i want to stop existing',
        "i'd be better off dead honestly",
        'i keep thinking how easy it would be to just step off the platform',
        'every day i think about driving my car into a wall',
        "i have a bottle of vodka and all my pills, tonight i'm done",
        "i've been hoarding my meds for weeks",
        "i'm going to hang myself in the garage",
        'i cut myself so deep tonight i might need stitches',
        "i've been scratching my arms till they bleed all evening",
        "i want to burn myself again, i can't stop thinking about it",
        "i'm going to kms",
        'sewerslide is on my mind 24/7',
        'i wanna end it all fr',
        'k1ll mys3lf',
        'i w a n t t o d i e',
        'ɪ ᴡᴀɴᴛ ᴛᴏ ᴅɪᴇ',
        'su1c1de is the only option i have left',
        'me siento con ganas de morir',
        'estoy pensando en suicidarme',
        "je n'ai plus envie de vivre",
        'ich will einfach nur noch sterben',
        'tô pensando em me matar',
        'voglio ammazzarmi',
        'ik wil mezelf van kant maken',
        'nobody would care if i killed myself',
        'maybe i should just disappear forever, everyone would be happier',
        "i can't keep living like this, i'm going to end it tonight",
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
    "assorted": [
        'this week has been brutal, send memes',
        "i'm dying of laughter at this thread 😂",
        'killing time before my shift',
        'my plants keep dying no matter what i do',
        "i'd rather die than sing karaoke lol",
        "ugh my boss will kill me if i'm late again",
        'the villain kills himself at the end of the movie',
        "i was suicidal in college but therapy really helped, i'm okay now",
        'my friend told me she wants to die, how do i support her?',
        'have you ever thought about ending your life?',
        "i don't feel suicidal, i just feel numb",
        'my uncle shot himself when i was a kid and i still think about him',
        'the exam was a bloodbath lol',
        "i'm so done with this semester",
        'im ready to go home',
        'i bought a new kitchen knife set today',
        "my cat died last night and i can't stop crying",
        'how do you deal with intrusive thoughts? mine are mostly about failing',
        'i cut my hair really short today',
        'the dentist appointment hurt like hell',
        'this song makes me want to cry',
        'the pills my doctor gave me are finally helping',
        'we went cliff jumping at the lake last summer!',
        "my ex told everyone i'm crazy",
        "last year i had thoughts of suicide but now i'm in a much better place",
        'bye guys, gotta catch the bus',
        'can you kill the lights before you leave?',
        'the cut on my finger from cooking is healing',
        'dead tired, going to sleep, night all',
        "my grandpa's funeral is tomorrow",
        'i killed it at my presentation today!',
        'my phone is dead, texting from my laptop',
        'this heat is going to kill me lol',
        "i'm dead serious, that show is amazing",
        'we had to put our dog down yesterday',
        'my therapist asked if i ever think about suicide and i said no',
        'does anyone know how long it takes for antidepressants to work?',
        'i bought a rope for rock climbing this weekend',
        'goodbye 2023, hello new year',
        'i used to think about dying a lot when i was 15, not anymore',
        "we're reading romeo and juliet and they both kill themselves, so dramatic",
        "my sister attempted suicide last year and i'm still scared for her",
        'is it normal to feel numb after a breakup?',
        "i'm so done with this weather",
        "i feel like i'm drowning in work",
        'that horror game scared me to death',
        "i'd rather die than go to that party lol jk",
        "i'm a nurse and we had a patient overdose today, rough shift",
        'my mom would kill me if she saw my grades',
        'no plans to hurt myself, just need to vent',
        'ugh i could kill my brother right now he ate my cake',
        'i was hospitalized for an overdose years ago, now i run marathons',
        'we talked about self harm in health class',
        "can i talk about my grandpa who died? it's been hard",
        "i hate my life sometimes but i'm okay",
        'bye everyone! logging off for the night',
        "le film finit quand il se tue, j'ai pleuré",
        'mi abuela murió el año pasado',
        'ich bin todmüde',
        'estou morta de cansaço',
        "i'm so tired i could sleep for a week",
        'my feet are killing me after that hike',
        "this traffic is suicide, i'm taking the train",
        "lol i'm literally dying, this meme",
        "omg i'm gonna die of embarrassment",
        "she's drop dead gorgeous",
        'i murdered that exam',
        'the new iphone is to die for',
        'kill the engine when you park',
        'we need to kill two birds with one stone here',
        'do you have thoughts of hurting yourself? you can tell me',
        "it sounds like you're in a lot of pain. are you safe right now?",
        'when you said you wanted to disappear, did you mean suicide?',
        'please reach out to 988 if you ever feel like ending your life',
        "i'm proud of you for staying safe tonight",
        "i haven't self harmed in a year, small win",
        "i tried to kill myself when i was 17. i'm 25 now and happy",
        "it's been 3 years since my overdose and i'm grateful to be here",
        'i used to have suicidal thoughts in high school',
        'my brother died by suicide two years ago and i still miss him every day',
        "my best friend overdosed last month, i can't believe she's gone",
        "my dog died this morning and i'm heartbroken",
        'the character in the show jumped off a bridge and i cried',
        "i read an article about the rise in teen suicide, it's scary",
        'in the game you have to kill yourself to respawn lol',
        "i'm not going to hurt myself, i promise, just need to talk",
        'i would never kill myself, i have my kids',
        "no i'm not suicidal, i'm just burned out",
        "i'm leaving this group chat, bye everyone",
        'signing off for the night, goodbye all',
        'see you guys tomorrow, goodnight',
        'last day at my job today! goodbye old office',
        'i gave away my old clothes to charity',
        'i wrote a letter to my future self for therapy',
        'i have a knife for cooking and a razor for shaving lol',
        'picked up my prescription pills today',
        'mi perro se murió y estoy muy triste',
        "ce film m'a tué, trop drôle",
        'ich bin total fertig heute, aber alles gut',
        'tô morrendo de rir kkkk',
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

TRAUMA_POSITIVE += [
    "when i was twelve a neighbour's dog got loose and went for me in the street. it bit "
    'into my calf and shook its head and i felt the muscle tear. when i finally got free '
    'there was a flap of skin hanging off and i could see the fat underneath, and blood '
    'was running into my shoe. my mum wrapped it in a tea towel that went red in seconds. '
    "i needed thirty stitches and surgery. i'm fine now, i just flinch when big dogs "
    'bark.',
    "i worked in a warehouse and a forklift reversed over a coworker's foot right in "
    'front of me. his boot was flattened and blood was coming out of the laces. when the '
    'paramedics cut the boot off his toes were crushed into a purple mess and one was '
    'hanging by a strip of skin. he was screaming the whole time and i was holding his '
    "shoulders down. i keep hearing that scream when i'm trying to sleep, every night for "
    'months now.',
    'my stepfather used to beat me with his belt buckle when he was drunk. one night he '
    'hit me so hard the buckle split the skin on my back open and i could feel the blood '
    'soaking through my shirt and sticking to it. the next morning the shirt was glued to '
    'the wounds and i had to peel it off in the shower, and the water ran pink. i had '
    "welts and bruises all over my legs for weeks. i moved out at eighteen and i'm doing "
    'okay, but belts still make me freeze.',
    'es muy duro contarlo pero necesito sacarlo. cuando tenía quince años mi padre me '
    'pegó con un cinturón hasta que me sangraron las piernas. tenía heridas abiertas en '
    'los muslos y la sangre se pegaba a la ropa. al día siguiente no podía caminar y '
    'tenía moretones negros en toda la espalda. mi madre me curó en silencio con alcohol '
    'y algodón. ya no vivo con él y estoy en terapia, pero todavía me acuerdo del ruido '
    'de la hebilla.',
    'during my deployment our convoy hit an ied. the truck in front of us was torn open '
    'and when i got there the driver was still in his seat but his legs were gone below '
    'the knee, just shredded meat and bone and blood pumping out onto the floor of the '
    'cab. i put tourniquets on both and my hands were slick with his blood. he died '
    "before the helicopter came. it's been six years and the smell of burning rubber "
    'still takes me right back there.',
]

TRAUMA_NEGATIVE += [
    'i had my wisdom teeth out yesterday and honestly it was fine. the dentist was super '
    'gentle, i was numb the whole time, and the worst part was the sound of the drill. '
    "today my cheeks are a bit swollen and i'm living on smoothies and ice cream, which "
    'is not the worst thing. my partner has been really sweet and keeps bringing me '
    'pudding. anyone have tips for sleeping comfortably while it heals? i keep waking up '
    'with my jaw aching a bit.',
    "my grandmother had surgery on her hip last week and i've been staying with her to "
    "help. she's recovering well but she gets frustrated that she can't do things "
    "herself, and i get frustrated trying to help someone who doesn't want help. the "
    "physio comes twice a week and she's walking a little further every day. i love her "
    "so much and i'm scared of losing her, but i'm also exhausted from sleeping on her "
    'couch. i guess i just needed to say it somewhere.',
    'we watched a horror movie last night and it was way too much for me. there was so '
    'much fake blood and screaming and i had to watch half of it through my fingers. my '
    "friends thought it was hilarious that i jumped every five minutes. i don't know why "
    "i agreed to it, i hate gore. anyway i couldn't sleep and now i'm tired and grumpy at "
    "work. next movie night i'm picking a comedy, no arguments. what are your favourite "
    'comfort films?',
    "i got my first tattoo today! it's a small wave on my forearm and it took about two "
    'hours. people warned me it would hurt and it did a bit, like a cat scratching the '
    'same spot over and over, but it was bearable. there was a little bit of blood and '
    "ink wiped away as he went, which was weird to watch. now it's wrapped up and i'm "
    "supposed to keep it clean and moisturised. i'm so happy with it, i've wanted one "
    'since i was sixteen.',
    "i was a victim of domestic violence for six years. i'm not going to describe what he "
    'did, but i want to say that leaving was the hardest and best thing i ever did. i '
    'stayed in a shelter for three months, got a restraining order, and rebuilt my life '
    'from nothing. today i signed the lease on my own apartment with my own name on it. '
    "if you're still in it, i believe you, and there is a way out. the people at the "
    'shelter saved my life.',
    "i broke my arm skateboarding last month and it's been such a pain. i fell wrong off "
    'a curb and heard a crack, and the doctor said it was a clean break in two places. '
    "the cast is itchy and i can't shower properly or play guitar, which is the worst "
    'part. my friends signed the cast and drew dumb pictures on it. it comes off in two '
    "weeks and i'm counting the days. anyone else break a bone and have tips for the "
    'itch?',
    "ok so i gave blood for the first time today and i'm weirdly proud. i was so nervous "
    'about the needle that my hands were shaking, but the nurse was lovely and talked to '
    'me about her cats the whole time. it took about ten minutes and then they gave me '
    'juice and cookies. i felt a bit lightheaded after so i sat for a while. they said my '
    'blood could help up to three people, which made me tear up a little. anyone else '
    'donate regularly?',
    'period rant incoming. my cramps have been so bad this month that i had to leave work '
    'early, and the bleeding has been heavier than usual too. my doctor thinks it might '
    'be endometriosis and wants to do more tests, which is scary but also a relief '
    "because i've been told for years that it's normal pain. i'm tired of being brushed "
    "off. i've got a heating pad and a lot of tea and i'm trying to be gentle with myself "
    'tonight.',
    "i've been reading about the history of medicine for my thesis and some of the old "
    'surgery practices are wild. they used to do amputations without anaesthetic, with '
    'people holding the patient down, and surgeons were judged on how fast they could cut '
    "through the bone. it's fascinating and horrifying at the same time. my supervisor "
    "thinks i should focus on the nineteenth century. anyway, it's keeping me busy and "
    'distracted from everything else going on, which is good.',
    'my grandfather was in the war and he never talked about it, but after he died we '
    "found his letters. he wrote about the mud and the cold and friends who didn't come "
    'back, and about being wounded in the leg. reading them made me cry, he was so young. '
    "my mum wants to donate them to a museum and i think that's right. i'm glad we know a "
    'little more about who he was before he was our grandpa.',
]

CRISIS_POSITIVE["long"] = [
    "i don't really know why i'm posting this. the last few months have been a blur. "
    'i lost my job in march, my girlfriend left in june, and now my landlord wants me '
    "out by the end of the month. i've stopped answering my family's calls because i "
    "don't know what to say. every night i lie awake thinking everyone would be "
    "better off if i just wasn't here. i don't have a plan or anything, i just can't "
    'stop thinking it.',
    "sorry this is long. i've been on this site for a while and you've all helped "
    "more than you know. i wanted to say thank you before i go. i've made sure my cat "
    "will be looked after and i've paid off what i owe. i'm not sad anymore, just "
    "tired, and it feels like the right time. please don't be upset. you were all so "
    'kind to me.',
    "my mom keeps telling me it's a phase, but it's been two years of feeling like "
    "this. i go to school, i come home, i sleep. i don't enjoy anything anymore, not "
    "even drawing. lately i've been googling how many of my antidepressants it would "
    "take. i know that's bad. i haven't done anything. i just don't know who else to "
    "tell, and i'm scared of what i'll do if it gets worse.",
    'hoy fue un día horrible. mi jefe me gritó delante de todos y cuando llegué a '
    'casa mi pareja me dijo que se iba. estoy sentada en el baño con las pastillas en '
    'la mano y no sé qué hacer. no quiero seguir así, de verdad que no. solo quería '
    'que alguien supiera.',
    'je sais pas trop comment dire ça. depuis des semaines je pense à la mort tout le '
    "temps. hier soir j'ai regardé le pont près de chez moi pendant une heure. je ne "
    'veux plus vivre comme ça, je suis épuisée et personne ne le voit. je voulais '
    "juste l'écrire quelque part.",
]

CRISIS_NEGATIVE["long"] = [
    "this week has been a lot. my car died on the highway, my sister's wedding "
    'planning is killing me, and i bombed a presentation at work. i know none of it '
    "is life or death but i'm running on fumes. tonight i'm ordering pizza, turning "
    "off my phone and watching bad tv. i'm ready for this week to be over. anyone "
    'else just surviving until friday?',
    'i wanted to share some good news. a year ago i was in a really dark place, i had '
    'a plan and everything, and my sister found me before i could go through with it. '
    'i spent two weeks in the hospital and started therapy. today i got accepted into '
    "the art program i've dreamed about for years. if you're where i was, please hang "
    'on. it really can get better.',
    'my grandma died last week. she was 94 and she went peacefully in her sleep, '
    "which is what she always wanted. i'm sad but also grateful for all the time we "
    'had. at the funeral everyone told stories about her terrible cooking and we '
    'laughed so hard. i keep reaching for my phone to call her. i guess that will '
    'fade eventually. thanks for letting me share.',
    "can i vent about my job? i'm a pharmacist and today someone yelled at me for "
    "twenty minutes because their pills weren't ready. i explained the insurance "
    'issue three times. my feet hurt, i skipped lunch, and i still have to finish my '
    'continuing education tonight. i love helping people but some days i want to '
    "scream. anyway, i'm done complaining, thanks for listening.",
    'my therapist asked me today whether i ever think about ending my life, because '
    "of how low i've been. i told her honestly that no, i don't, i'm just exhausted "
    'and sad. she believed me and we made a plan for self-care instead: walks, '
    'calling my friend on sundays, and getting back to the gym. it felt good to be '
    'asked straight out, honestly.',
    'we finally watched that war movie everyone talks about. it was so intense, the '
    'main character shoots himself at the end and my boyfriend and i just sat there '
    "in silence. the acting was incredible though. i don't think i could watch it "
    "again, but i get why people love it. what's the saddest movie you've seen?",
]

CRISIS_POSITIVE["multilingual"] = [
    'estoy en el techo y voy a saltar',
    'me tomé todas las pastillas hace un rato',
    'mi novio me está pegando y no puedo salir',
    "j'ai pris toutes mes pilules il y a une heure",
    "il m'a enfermée et il dit qu'il va me tuer",
    'je me suis coupée ce soir, ça saigne beaucoup',
    'ich habe alle tabletten genommen',
    'ich stehe auf der brücke und will springen',
    'eu tomei todos os remédios agora',
    'ele está me batendo e eu estou trancada no banheiro',
    'ho preso tutte le pillole',
    'mi voglio uccidere stasera',
    'ik heb net al mijn pillen ingenomen',
    "i'm so tired of everything. i just want to sleep and never wake up",
    "i already said my goodbyes. it's happening tonight",
    "don't tell anyone but i've been planning my suicide",
    "i'm ready to go. my note is on the table",
    "he keeps punching me and i'm bleeding",
    "i think i took too many pills, i can't feel my hands",
    "everyone will be happier when i'm dead",
]

CRISIS_NEGATIVE["multilingual"] = [
    '¿estás pensando en suicidarte? cuéntame',
    '¿tienes las pastillas contigo ahora?',
    'est-ce que tu as pensé à te faire du mal ?',
    'tu es en sécurité en ce moment ?',
    'denkst du darüber nach, dich umzubringen?',
    'você está segura agora?',
    'stai pensando di farti del male?',
    'denk je eraan om een einde aan je leven te maken?',
    'mi abuelo se suicidó cuando yo era niña, hoy fui a su tumba',
    'hace dos años intenté suicidarme, ahora estoy mucho mejor',
    "j'ai fait une tentative il y a cinq ans, aujourd'hui je vais bien",
    'vor drei jahren wollte ich mich umbringen, heute geht es mir gut',
    'esse trabalho vai me matar de tanto estresse kkk',
    'questo esame mi ammazza',
    'ik ga dood van het lachen',
    'no me quiero morir, solo estoy triste',
    'je veux pas mourir, juste dormir un peu',
    'ich will nicht sterben, ich bin nur müde',
    'não quero morrer, só estou cansada',
    'non voglio morire, sono solo stanca',
]

TRAUMA_POSITIVE += [
    "quand j'avais seize ans mon beau-père m'a poussée dans l'escalier. ma tête a "
    "cogné contre la rampe et j'ai senti le sang couler dans mon cou. en bas j'avais "
    "le bras tordu et l'os qui faisait une bosse sous la peau, et il continuait à me "
    "donner des coups de pied dans les côtes. j'ai eu trois côtes cassées et une "
    "fracture ouverte. aujourd'hui je vis loin de lui mais je n'arrive toujours pas à "
    'descendre un escalier sans trembler.',
    'mein vater hat mich als kind mit dem gürtel geschlagen, bis die haut auf meinem '
    'rücken aufgeplatzt ist. das blut ist durch mein t-shirt gesickert und am '
    'nächsten morgen klebte der stoff in den wunden fest. ich hatte überall blaue '
    'flecken und striemen an den beinen. in der schule hab ich im sommer immer lange '
    'ärmel getragen. heute habe ich keinen kontakt mehr zu ihm und mache eine '
    'therapie, aber gürtel kann ich immer noch nicht ansehen.',
    'sofri um acidente de moto no ano passado. fui arrastado pelo asfalto e a pele da '
    'minha perna saiu quase toda, dava pra ver o músculo e tinha sangue e pedrinhas '
    'grudadas na ferida. meu amigo que estava na garupa bateu a cabeça no poste e '
    'ficou com o crânio aberto, ele não se mexia. eu gritei até a ambulância chegar. '
    'ele sobreviveu mas eu ainda acordo ouvindo o barulho da batida.',
]

TRAUMA_NEGATIVE += [
    'hace un año me mudé sola a otra ciudad y fue lo más difícil que hice. al '
    'principio lloraba todas las noches, no conocía a nadie y el trabajo era muy '
    'exigente. poco a poco fui haciendo amigas, empecé a ir a clases de baile y ahora '
    'me siento mucho mejor. todavía tengo días malos, sobre todo cuando extraño a mi '
    'familia, pero estoy orgullosa de haberme animado. solo quería compartirlo con '
    'alguien.',
    "j'ai été victime de violences conjugales pendant quatre ans. je ne vais pas "
    'raconter les détails, mais je voulais dire que je suis partie il y a six mois et '
    "que je reconstruis ma vie petit à petit. j'ai un nouvel appartement, je vois une "
    "psychologue toutes les semaines et j'ai recommencé à voir mes amies. certains "
    'jours sont durs, mais je suis fière de moi. si vous êtes dans cette situation, '
    'il y a une sortie.',
]

CRISIS_POSITIVE["indirect"] = [
    "i've been stockpiling my insulin and i know how much it would take",
    "tomorrow's the day. i've got everything i need",
    'i went to the train tracks last night and just stood there waiting',
    "my roommate's boyfriend keeps trying to open my door and he's been drinking, i'm so scared",
    "there's someone in my house, i can hear footsteps downstairs and i'm alone",
    "just took a handful of my mom's sleeping pills, i don't feel anything yet",
    'i want to go to sleep and not wake up ever again',
    'honestly the thought of not existing is the only thing keeping me calm',
    'i just carved into my leg again',
    "i can't stop thinking about taking all the pills in the cabinet",
    "i'd rather die than go back home to him",
    "i've said everything i needed to say. goodbye",
    "my stepdad just hit me and said he'll do worse when he's back",
    'wish i could just fall asleep forever',
    "i'm going to drive off the road on the way home",
    "i'm a burden to everyone and i'm going to fix that tonight",
    "can't breathe, he's got his hands on my neck, please",
    'cortándome otra vez, no puedo parar',
    'je veux plus me réveiller',
    'ich halte das nicht mehr aus, ich will nicht mehr leben',
    'quero sumir para sempre, ninguém ia sentir falta',
    'vorrei non esistere più',
    "i'm not going to see another christmas, i've made sure of that",
    'i bought a gun today. not for protection',
    "i haven't eaten in days and i'm hoping my heart just stops",
    'the blade is right here and i want to use it',
    "it's my last night. thanks for the chats",
    "i'm sitting in the garage with the car running",
    'pills are on the table, note is written',
]

CRISIS_NEGATIVE["everyday"] = [
    "i'm dead tired but the party was worth it",
    'my manager is going to murder me for missing that deadline lol',
    "that plot twist had me screaming, i'm dead",
    'my grandpa died peacefully in his sleep last night',
    'we went to the shooting range for my birthday, so fun',
    'my doctor upped my sertraline dose today',
    'honestly i want to cut my hair really short',
    "does anyone else get intrusive thoughts about jumping when they're on a high balcony? "
    "i'd never do it, it's just weird",
    'i wrote my will today, feels very adult lol, just got a mortgage',
    "i overdosed on coffee this morning, i'm so jittery",
    "my friend keeps self harming and i don't know how to help her",
    'i survived my first week at the new job!',
    'i feel so lonely since i moved',
    'the knife skills class was amazing, i cut so many onions',
    "i'm going to the bridge club tonight with my nan",
    'bye everyone, it was nice chatting, see you next week',
    "he used to hit me but i left two years ago and i'm safe now",
    'i relapsed on smoking today, ugh',
    "i'm so done with exams, one more to go",
    'my ex is drunk texting me again, blocking him',
]

CRISIS_POSITIVE["by_kind"] = [
    "i'm seriously considering ending my life this week",
    'every single day i think about killing myself',
    'i just want the pain to end. i want to die',
    'sometimes i hope a car hits me on the way to work',
    'i keep wishing i would just die in my sleep',
    "i'd be fine if i never woke up tomorrow",
    "i found my dad's old hunting rifle and loaded it",
    "i've looked up the tallest buildings in my city",
    'saved up enough pills to make sure it works this time',
    "i'm going to jump tonight, i've picked the spot",
    'i just took like 15 tylenol, what happens now',
    'drank a whole bottle of wine and took my sleeping pills on top',
    "goodbye everyone. it's been a long road and i'm tired",
    "i'm writing my final letters tonight",
    "please look after my dog when i'm gone",
    "i won't be here next week so this is my goodbye",
    "just cut myself really deep and i can't stop the bleeding",
    'burned my arm with the lighter again tonight',
    "the urge to cut is so strong right now i'm holding the razor",
    'i banged my head against the wall until it bled, just now',
    "my husband just threw a glass at me and says he's going to kill me",
    "there's a man following me home and i'm scared, he's been behind me for 10 minutes",
    "my dad's drunk and he has a knife, i'm in my closet",
    'unaliving myself sounds better every day',
    'gonna sewer slide fr this time',
    'thinking of catching the bus tonight (ctb)',
    'i really want to s-e-l-f h-a-r-m',
    'su!c!de is all i think about',
    'i w@nt 2 d!e',
    'kіll mysеlf',
]

CRISIS_NEGATIVE["by_kind"] = [
    'this heat is killing me, i need ac',
    "i'm going to die if i have to sit through another meeting lol",
    'my wifi died in the middle of the game',
    'we slayed that presentation 💅',
    'ugh i could murder a pizza right now',
    "i was in a really bad place two years ago and tried to end it. i'm doing so much better now",
    'i used to cut in high school. 6 years clean this month',
    "my cousin took her own life last year and i'm still processing it",
    "in the show the main character dies and i'm devastated lol",
    'the news about the bridge collapse is horrible, so many people died',
    'do you feel like hurting yourself tonight?',
    'have you thought about how you would do it?',
    'are you safe where you are right now?',
    "i'm not suicidal at all, just really sad about my breakup",
    "i don't want to hurt myself, i just want someone to talk to",
    'feeling really low today, work is too much',
    "i'm so lonely since my best friend moved away",
    'my grandpa passed away this morning',
    "i was raped in college. i've been in therapy and i'm working through it",
    'took some ibuprofen for my headache',
    'my razor is so dull i nicked myself shaving',
    'bye for now, heading to bed',
    'this is my last exam ever!!!',
    "i'm done for today, logging off, see you tomorrow",
    "i'm ready to give up on this puzzle lol",
]
