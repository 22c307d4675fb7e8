"""Who is who and who does what, from what people say to each other.

Speech recognition and voice clustering say little about names: the words do.
People are named when they are addressed ("Ana, could you…", "…, Kwame?"),
thanked ("Thanks, Lea"), or introduce themselves ("I'm Omar"). From these:

- candidate attendees: every name heard in one of those roles;
- voices named: a voice that answers just after someone is addressed, that is
  thanked just after it spoke, or that introduces itself gets that name, with
  the evidence kept so the page can show it;
- action items: a request addressed to a name is that person's, confirmed by
  the reply ("Sure, I'll do it") and by thanks; a decline hands it to whoever is
  suggested or takes it over, or drops it; "I will…" is the speaker's, named by
  who was addressed just before, who is thanked just after, or the voice's name.

The rules read sentences in order; a speaker label ("Speaker 2") comes from
diarisation and may be wrong, so local evidence (the words around) wins over it.
"""
from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from lib.meeting_minutes import dates
from lib.meeting_minutes.schema import ActionItem, Segment

# Letters of the Latin scripts, so that "José", "Zoë", "Łukasz" and "Nguyễn" are names too.
_LATIN = [chr(c) for c in [*range(0x41, 0x250), *range(0x1E00, 0x1F00)]]
CAPITALS, _SMALL = "".join(c for c in _LATIN if c.isupper()), "".join(c for c in _LATIN if c.islower())
NAME = rf"(?-i:[{CAPITALS}][{_SMALL}]+(?:-[{CAPITALS}][{_SMALL}]+)?)"  # capitalised even inside case-blind patterns
# Capitalised words that start sentences or follow a comma but are not names.
NOT_NAMES = set("""I I'm I'll Okay OK Ok So And But Or Yes Yeah Yep No Nope Right Great Good Well Sure Thanks Thank Hi
Hello Hey Perfect Fine Maybe Also Then Now Let Let's Could Can Would Will Please Sorry Of The This That These Those It
It's We We'll You They He She Everyone Everybody All Team Guys Folks Sounds Agreed Mm Hmm Oh Alright Next First Last
Another What Who How Why When Where Do Does Did Is Are Shall Morning Afternoon Evening Anyway Actually Exactly
Absolutely Definitely Cool Nice Wow Look Listen One Two Three Just Here There Not Any Again Today Tomorrow Tonight
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April June July August September
October November December Yes Ah Uh Um Cheers Bye Goodbye Sir Madam Ma'am Mister Doctor Professor Okay Lovely
Brilliant Excellent Awesome Super Indeed True Correct Done Noted Understood Got Wonderful Kind Much Very Both
Anything Something Nothing Welcome Hopefully Unfortunately Otherwise Meanwhile However Besides Finally Honestly
Seriously Basically Personally Great Good Mm-hm Mmm Hmm Uh Um Eh Er Erm Ooh Oops Whoa Obviously Clearly Apparently
Luckily Sadly Really Probably Surely Certainly Frankly Generally Usually Normally Ideally Last Yesterday Then Thus
Everything Someone Somebody Anyone Anybody Nobody Congratulations Speaker Me Us Him Her Them Mine Yours
My Our Your His Its Their""".split())
# A title before a name is not the name: "Doctor Okafor, could you…", "Thank you, Nurse Patel."
TITLE = r"(?:(?:doctor|dr\.?|nurse|sister|mr\.?|mrs\.?|ms\.?|miss|professor|prof\.?|coach|captain)\s+)?"
_VOC_START = rf"(?:(?:okay|ok|so|and|right|great|well|hi|hello|hey|now|then|also|alright|mm+|hmm+|um|uh),?\s+)?{TITLE}"
_ACTION_FOR = rf"^(?:an? )?action(?: item)? (?:for|on) {TITLE}"  # minutes dictated: "Action for Sara: …"
REQUEST_VERB = r"(?:(?:could|can|would|will|wouldn't|won't) you|are you able to)(?: please)?(?: also)?(?: be able to)?"
REQUESTS = [
    re.compile(rf"^{_VOC_START}(?P<name>{NAME})[,.]?\s+(?:{REQUEST_VERB}|what (?:do )?you)\s+(?P<task>[^?!]+)", re.I),
    re.compile(rf"^{_VOC_START}(?P<name>{NAME})[,.]?\s+(?:please|don't forget to|remember to|make sure (?:you|to))\s+"
               rf"(?P<task>[^?!]+)", re.I),
    re.compile(rf"^{_VOC_START}(?P<name>{NAME})[,.]?\s+can I leave (?P<task>[^?!]+)", re.I),  # "…the budget with you"
    re.compile(rf"^{_VOC_START}(?P<name>{NAME}),?\s+over to you for (?P<task>[^?!]+)", re.I),
    re.compile(rf"^{_VOC_START}(?P<name>{NAME}),\s+you(?:'ll| will)? (?P<task>(?:do|take|handle|write|make|cover)\s+"
               rf"[^?!]+?)(?:,\s*right)?\s*[?.!]*$", re.I),  # "Elif, you do the methods section, right?"
    re.compile(rf"{_ACTION_FOR}(?P<name>{NAME})\s*[:,-]?\s+(?P<task>[^?!]+)", re.I),
    re.compile(rf"^{_VOC_START}(?:please\s+)?{REQUEST_VERB}\s+(?P<task>[^?!]+?),\s*(?:[a-z]+\s+)?(?P<name>{NAME})\s*[?.!]*$",
               re.I),
    re.compile(rf"\bI(?:'d| would) like (?P<name>{NAME}) to\s+(?P<task>[^?!]+)", re.I),
    re.compile(rf"\b(?:I need|I want|can I ask|could I ask) (?P<name>{NAME}) to\s+(?P<task>[^?!]+)", re.I),
]
# "Could you book the coach for the trip Victor?": the comma before a name at the end is often not
# written; the name is the one asked unless the word before makes it the task's object ("call Ana").
REQUEST_NAME_LAST = re.compile(rf"^{_VOC_START}(?:please\s+)?{REQUEST_VERB}\s+(?P<task>[^?!,]+?)\s+"
                               rf"(?P<name>{NAME})\s*\?$", re.I)
OBJECT_OF = set("""to with for from call email phone ring text ask tell help meet invite remind thank see about and or by
at of on introduce contact pay visit""".split())
ADDRESSED = [re.compile(rf"^{_VOC_START}(?P<name>{NAME}),\s+\S", re.I),
             re.compile(rf",\s*(?P<name>{NAME})\s*\?\s*$")]
THANKED = re.compile(rf"\b(?:thanks|thank you|thank|cheers)(?: so much| very much)?(?: for [^,.]+,)?,?\s+{TITLE}"
                     rf"(?P<name>{NAME})\b", re.I)
INTRODUCED = re.compile(rf"\b(?:I'm|I am|(?i:my name is|this is|it's))\s+(?P<name>{NAME})\b(?!\s+(?:and|from|of)\s+[a-z])?")
SUGGESTED = [re.compile(rf"\b(?:maybe|perhaps|could|can|ask|how about|what about)\s+(?P<name>{NAME})\b"
                        rf"(?:\s+(?:could|can|do|take|might|would))?", re.I),
             re.compile(rf"^(?P<name>{NAME})\s+(?:knows|could|can|might|would be|is better)\b")]
ANNOUNCED = re.compile(rf"\b(?P<name>{NAME}) (?:will|is going to|has agreed to|offered to)\s+(?P<task>[^.?!]+)")
# As minutes are dictated: "Nina to update the project plan before Friday." "Fine." (only when accepted)
DICTATED = re.compile(rf"^{TITLE}(?P<name>{NAME}) to (?P<task>[a-z]+\s[^.?!]+)")
SELF = re.compile(r"\b(?:I will|I'll|I am going to|I'm going to|I shall|I can|let me|I'm happy to|I could)\s+"
                  r"(?:also\s+)?(?P<task>[^.?!]+)", re.I)
ACCEPT = re.compile(r"^(?:sure|yes|yeah|yep|okay|ok|of course|certainly|absolutely|no problem|will do|fine|happy to|"
                    r"leave it with me|consider it done|i(?:'ll| will| can) (?:do|take|handle|manage) (?:it|that|this)|"
                    r"i(?:'ll| will) take care of it|on it|no worries|alright|definitely|got it|"
                    r"we'll do(?=[,.!]*(?:\s+(?:great|thanks)\b|$)))\b", re.I)  # "Will do" as heard: "We'll do."
DECLINE = re.compile(r"\b(?:I can't|I cannot|I can not|I won't be able|I'm not able|I don't have (?:the )?time|"
                     r"not this week|I'm away|I'm travelling|I'm traveling|I'm off|I'm on (?:holiday|leave)|too busy|"
                     r"I'm out of (?:the )?office|I'm not (?:around|available|here)|I won't be (?:here|there|around)|"
                     r"I'd rather not|sorry, no|unfortunately,? I|I'm afraid I)\b", re.I)
DROPPED = re.compile(r"\b(?:leave (?:that|it|this) for now|(?:it|that) can wait|let's skip (?:it|that)|"
                     r"park (?:that|it)|drop (?:that|it))\b", re.I)
FIND_OUT = re.compile(r"^(?:find (?:that |it )?out|check(?: that| it)?|look into (?:it|that)|ask around)$", re.I)
ANSWERS_DECLINE = re.compile(r"^(?:no problem|no worries|never mind|don't worry|that's fine|okay|ok|fine)\b", re.I)
ANAPHORIC = re.compile(r"^(?:do|take|handle|manage|cover|have|get|sort|deal with|see to|look into) (?:it|that|this|one)\b|"
                       r"^take care of|^look after it", re.I)
# A promise whose object is only a pronoun answers the request before it: "Yes, I'll look at them."
PRONOUN_OBJECT = re.compile(r"^[a-z]+(?:\s+(?:at|into|over|through|after|up|out))?\s+(?:it|them|those|these)$", re.I)
NOT_TASKS = re.compile(r"^(?:do (?:that|it|this)|help|try|depend|be\b|see\b|think|have\b|guess|say|tell\b|"
                       r"imagine|live with|hear|agree|check\?$|start\b|chair|run these|"
                       r"(?:run|lead|host|chair)\s+(?:the\s+|this\s+|today's\s+|our\s+)?(?:meeting|session|call)s?\b)", re.I)
SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
# A request run on after another sentence with no full stop: "…in three days and Oscar, will you send…",
# "The freezer alarm went off twice, Peter, please book…".
_RUN_ON = rf"(?:and|so|now|then|okay|ok)\s+{NAME},?\s+(?:{REQUEST_VERB}|please)\s"
RUN_ON_REQUEST = re.compile(rf",?\s+(?={_RUN_ON})|,\s+(?=(?P<asked>{NAME}),\s+(?:{REQUEST_VERB}|please)\s)", re.I)
STARTS_REQUEST = re.compile(rf"^{_RUN_ON}", re.I)
# The reply run on after the name ending a request: "Could you send the forms home, Hugo, of course."
REPLY_AFTER_NAME = re.compile(rf",\s*(?P<name>{NAME})[,.]\s+(?P<reply>(?:of course|sure|yes|yeah|okay|ok|no problem|"
                              rf"will do|certainly|absolutely)\b[^?]*)$", re.I)
UNNAMED_VOICE = re.compile(r"Speaker \d+")  # diarisation's label for a voice nobody has named
WINDOW = 3  # sentences after a request in which its reply, a decline or thanks count


@dataclass
class Sentence:
    text: str
    segment: int
    speaker: str


@dataclass
class Evidence:
    """Why a voice got a name: the name, the reason shown to the student, its weight."""
    name: str
    reason: str
    weight: int


@dataclass
class _Pending:
    item: ActionItem
    asked_at: int
    asker: str
    declined: bool = False
    suggested: str = ""
    done: bool = False
    names: list[str] = field(default_factory=list)


NAME_ALONE = re.compile(rf"^(?P<name>{NAME})\s*[,.!?]*$")
INTERJECTION_AND_NAME = re.compile(rf"^(?:yes|okay|ok|so|right|and|now|well),?\s+(?P<name>{NAME})\s*[,.!]*$", re.I)
THANKS_AT_END = re.compile(r"\b(?:thanks|thank you)\s*[,.!]*$", re.I)  # "Sure, I'll do it, thank you," "Mei."
# A request that names nobody: "Could you book the hall by Friday?", "Please print the flyers.",
# and "I'd like him to…" (often a name misheard: "I'd like beater to…"); the first two are asked directly.
# A name misheard as other words still leaves its comma: "You kid, will you test…?" (Yuki), "MRR, please…"
_LEAD_IN = r"(?:(?:[\w'-]+\s+){0,2}[\w'-]+,\s+)?"
NAMELESS_TASK = [re.compile(rf"^{_VOC_START}{_LEAD_IN}(?:please\s+)?(?:{REQUEST_VERB}|(?:could|can|would|will) "
                            rf"(?:somebody|someone|anyone|one of you))\s+(?P<task>[^?!]+)", re.I),
                 re.compile(rf"^{_VOC_START}{_LEAD_IN}please\s+(?P<task>[^?!]+)", re.I),
                 re.compile(r"\b(?:I(?:'d| would) like|I need|I want) (?!(?:we|I|to)\b)[a-z]+ to\s+(?P<task>[^?!]+)")]
ACTION_FOR_ALONE = re.compile(rf"{_ACTION_FOR}{NAME}\s*[.:,]*$", re.I)
# A reply that opens with a name: "Mei, sure, leave it with me."
NAME_THEN_REPLY = re.compile(rf"^(?P<name>{NAME})[,.]?\s+(?P<reply>.+)$")


def _is_nameless_request(text: str) -> bool:
    """Asked directly of nobody by name ("Could you…?", "Please…")."""
    return any(p.match(text) for p in NAMELESS_TASK[:2]) and _request(text) is None


def _vocative_to_request(request: Sentence, name: str) -> None:
    request.text = f"{request.text.rstrip(',.!? ')}, {name}?"


def sentences(segments: list[Segment]) -> list[Sentence]:
    """The transcript's sentences in order. Speech recognition often cuts a name off the
    sentence it belongs to ("Thanks." "Ravi." or "Oscar." "Please learn…"): a name alone is
    joined to a thanks just before it, else to the sentence after it. A name said at the end
    of a request often lands at the start of the reply ("Could you restock the trolley?"
    "Mei, sure, leave it with me."): after a request that names nobody, a name opening a
    reply goes back to the request as the one addressed; "Yes, Peter." before a request that
    names nobody, in the same voice, is its start."""
    found = _continued([Sentence(text.strip(), i, s.speaker) for i, s in enumerate(segments)
                        for text in SENTENCE_END.split(_run_ons_split(s.text)) if text.strip()])
    _recapitalise(found)
    joined: list[Sentence] = []
    carried: Sentence | None = None
    for sentence in found:
        after_request = not carried and joined and _is_nameless_request(joined[-1].text)
        if ACTION_FOR_ALONE.match(sentence.text) and not carried:  # "Action for Sarah." "Send the quote…"
            carried = sentence
            continue
        alone = NAME_ALONE.match(sentence.text)
        if alone and _is_name(alone.group("name")):
            if joined and THANKS_AT_END.search(joined[-1].text):
                joined[-1].text = f"{joined[-1].text.rstrip(',.! ')}, {alone.group('name')}."
            elif after_request:
                _vocative_to_request(joined[-1], alone.group("name"))
            else:
                carried = sentence
            continue
        before = INTERJECTION_AND_NAME.match(joined[-1].text) if joined else None
        if before and _is_name(before.group("name")) and joined[-1].speaker == sentence.speaker and \
                _is_nameless_request(sentence.text):  # "Yes, Peter." "Please book the cold room."
            joined[-1].text = f"{before.group('name')}, {sentence.text[:1].lower()}{sentence.text[1:]}"
            continue
        opening = NAME_THEN_REPLY.match(sentence.text)
        if after_request and opening and _is_name(opening.group("name")) and \
                (ACCEPT.match(opening.group("reply")) or DECLINE.search(opening.group("reply"))):
            _vocative_to_request(joined[-1], opening.group("name"))
            rest = opening.group("reply")
            sentence = Sentence(rest[:1].upper() + rest[1:], sentence.segment, sentence.speaker)
        if carried and opening and _is_name(opening.group("name")) and NAME_ALONE.match(carried.text):
            joined.append(carried)  # "May." then "Emma, please print…": two people named, not one
            carried = None
        if carried:
            rest = sentence.text
            sentence = Sentence(f"{carried.text.rstrip(',.!? ')}, {rest[:1].lower()}{rest[1:]}", carried.segment,
                                carried.speaker)
            carried = None
        joined.append(sentence)
    return joined + ([carried] if carried else [])


def _run_ons_split(text: str) -> str:
    """Full stops where recognition ran a request on after another sentence, or a reply on after a
    request; not after a word or two ("Okay Peter, please…"), and after thanks the name is said to
    both ("Great, thank you, Lea, could you…": "…thank you, Lea." "Lea, could you…")."""
    def cut(match: re.Match) -> str:
        before = text[:match.start()]
        if len(before.split()) < 3:
            return match.group(0)
        return f", {match.group('asked')}. " if match.group("asked") and THANKS_AT_END.search(before) else ". "

    text = RUN_ON_REQUEST.sub(cut, text)
    reply = REPLY_AFTER_NAME.search(text)
    if reply and _is_name(reply.group("name")) and _request(f"{text[:reply.end('name')]}?"):
        text = f"{text[:reply.end('name')]}? {_capital(reply.group('reply'))}"
    return text


DEADLINE_ALONE = re.compile(rf"^(?:{dates.PREPOSITION}\s+)?(?:{dates.DEADLINE})\b[\s?!.,]*$", re.I)


def _continued(found: list[Sentence]) -> list[Sentence]:
    """A pause can cut a sentence in two ("Martin, can you send the samples" "by Friday?"): a piece
    that starts in lower case after one with no full stop is its end when the same voice says it.
    A piece that is nothing but a deadline ("before the 15th", "On next Tuesday,") belongs to the
    sentence before it whatever its punctuation, and whoever the clustering says spoke it."""
    joined: list[Sentence] = []
    for sentence in found:
        prev = joined[-1] if joined else None
        if prev and DEADLINE_ALONE.match(sentence.text):
            end = prev.text[-1] if prev.text.endswith((".", "?", "!")) else ""
            deadline = sentence.text.strip(" ,.?!")
            prev.text = f"{prev.text.rstrip(',.?!')} {deadline[:1].lower()}{deadline[1:]}{end}"
            continue
        if (prev and not prev.text.endswith((".", "?", "!")) and sentence.speaker == prev.speaker and
                (sentence.text[:1].islower() or _unfinished(prev.text)) and not STARTS_REQUEST.match(sentence.text)):
            kept = prev.text if NAME_ALONE.match(prev.text) else prev.text.rstrip(",")  # "Lara," "anything to add?"
            prev.text = f"{kept} {sentence.text}"
            continue
        joined.append(sentence)
    return joined


# Words a sentence cannot end on: a piece ending in one goes on in the next ("I'd like" "Oscar to copy…").
DANGLING = set("""a an the to of for with and or but like would could can will you please by before on in at
from about my your our their is are was were be need want ask""".split())


def _unfinished(text: str) -> bool:
    words = text.rstrip(",").split()
    return bool(words) and words[-1].lower() in DANGLING


def _recapitalise(found: list[Sentence]) -> None:
    """Speech recognition sometimes writes a name in lower case ("thank you, martin"): a word
    that is elsewhere a capitalised name (addressed, thanked, introduced) gets its capital back."""
    names = {n for s in found for pattern in (ADDRESSED + REQUESTS + [THANKED, INTRODUCED])
             for m in pattern.finditer(s.text) if _is_name(n := m.group("name"))}
    if names:
        lower = re.compile(r"\b(" + "|".join(re.escape(n.lower()) for n in names) + r")\b")
        for s in found:
            s.text = lower.sub(lambda m: m.group(1).capitalize(), s.text)


def _is_name(word: str) -> bool:
    return bool(word) and word not in NOT_NAMES and word.capitalize() not in NOT_NAMES and len(word) > 1


def _first_name(patterns, text: str) -> str:
    for pattern in patterns:
        match = pattern.search(text)
        if match and _is_name(match.group("name")):
            return match.group("name")
    return ""


def addressed(text: str) -> str:
    """The name someone is speaking to ("Ana, could you…", "…, Kwame?"), or ""."""
    request = _request(text)
    return _first_name(ADDRESSED + REQUESTS, text) or (request[0] if request else "")


def thanked(text: str) -> str:
    return _first_name([THANKED], text)


def introduced(text: str) -> str:
    return _first_name([INTRODUCED], text)


def introductions(text: str) -> list[str]:
    """Every name introduced in a sentence: two voices can share one ("I'm Helen, hello, my name is Yuki.")."""
    return [m.group("name") for m in INTRODUCED.finditer(text) if _is_name(m.group("name"))]


def canonical_names(sents: list[Sentence]) -> dict[str, str]:
    """{spelling: canonical spelling}: Whisper may write one name two ways ("Kwame", "Kwami");
    spellings alike (difflib ratio ≥ 0.75, same first letter) map to the most frequent one."""
    heard = Counter(n for s in sents for n in (addressed(s.text), thanked(s.text), introduced(s.text)) if n)
    canon: dict[str, str] = {}
    for name, _ in heard.most_common():
        match = next((c for c in dict.fromkeys(canon.values()) if c[0] == name[0] and
                      difflib.SequenceMatcher(None, c.lower(), name.lower()).ratio() >= 0.75), None)
        canon[name] = match or name
    return canon


def candidate_attendees(segments: list[Segment]) -> list[str]:
    """Names heard as someone addressed, thanked or introducing themselves, in order of first mention."""
    sents = sentences(segments)
    canon = canonical_names(sents)
    return list(dict.fromkeys(canon.get(n, n) for s in sents for n in (*introductions(s.text), addressed(s.text),
                                                                       thanked(s.text)) if n))


def _quote(text: str, limit: int = 60) -> str:
    return f"'{text[:limit]}…'" if len(text) > limit else f"'{text}'"


def voice_evidence(segments: list[Segment]) -> dict[str, list[Evidence]]:
    """{speaker label: evidence for names}: introductions (weight 3), answering right after
    someone was addressed by name (2 when the answer accepts, declines or promises, else 1),
    being thanked right after speaking (2)."""
    sents = sentences(segments)
    canon = canonical_names(sents)
    found: dict[str, list[Evidence]] = {}

    def add(label: str, name: str, reason: str, weight: int) -> None:
        if label and name:
            found.setdefault(label, []).append(Evidence(canon.get(name, name), reason, weight))

    for k, s in enumerate(sents):
        if (name := introduced(s.text)):
            add(s.speaker, name, f"introduced themselves: {_quote(s.text)}", 3)
        nxt = sents[k + 1] if k + 1 < len(sents) else None
        prev = sents[k - 1] if k else None
        if nxt and nxt.speaker != s.speaker and (name := addressed(s.text)):
            add(nxt.speaker, name, f"answered just after the previous speaker said {_quote(s.text)}",
                2 if _is_reply(nxt.text) else 1)
        if prev and prev.speaker != s.speaker and (name := thanked(s.text)):
            add(prev.speaker, name, f"was thanked just after speaking: {_quote(s.text)}", 2)
    return found


def _is_reply(text: str) -> bool:
    """An answer to a request: accepting, declining or promising (not a new request or remark)."""
    return bool(ACCEPT.match(text) or DECLINE.search(text) or SELF.search(text)) and not _request(text)


def name_voices(segments: list[Segment]) -> dict[str, tuple[str, str]]:
    """{speaker label: (name, evidence shown to the student)}: one name per voice and one voice per
    name, chosen so that the evidence behind the names given is the most in total (an assignment
    problem: greedy, strongest first, lets one lucky vote take the name from the voice with more
    evidence); voices without evidence keep their label."""
    evidence = voice_evidence(segments)
    labels = sorted(evidence)
    people = sorted({e.name for evs in evidence.values() for e in evs})
    votes = np.array([[sum(e.weight for e in evidence[label] if e.name == name) for name in people]
                      for label in labels], dtype=float).reshape(len(labels), len(people))
    rows, cols = linear_sum_assignment(-votes)
    names: dict[str, tuple[str, str]] = {}
    for label, name in ((labels[r], people[c]) for r, c in zip(rows, cols) if votes[r, c] > 0):
        reasons = [e.reason for e in evidence[label] if e.name == name]
        names[label] = (name, f"named {name} because this voice {reasons[0]}" +
                        (f" (and {len(reasons) - 1} more like it)" if len(reasons) > 1 else ""))
    return names


def _task(text: str) -> tuple[str, str]:
    task, due = dates.split_due(text.strip(" ,."))
    task = re.sub(rf"(?:\s+(?:please|then|myself|instead|as well|too|(?:before|by|until) then|with you)|,\s*{NAME})$", "",
                  task.strip(" ,."), flags=re.I)  # "…the speaker list tonight, Tariq": the one told, not the task
    task = re.sub(r"^(?:please\s+)", "", task, flags=re.I)
    return task.strip(" ,."), due


def _is_task(task: str) -> bool:
    return len(task.split()) >= 2 and not NOT_TASKS.match(task) and not ANAPHORIC.match(task)


COMMON = set("about with from that this them they have will there their what could would should into over some more "
             "also just then when which".split())


def _words(text: str) -> set[str]:
    """Content words (over three letters, common ones left out), plurals as singulars
    ("the recording studio" and "the recordings" share one)."""
    return {_singular(w) for w in re.findall(r"[a-z']+", text.lower()) if len(w) > 3 and w not in COMMON}


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 4 else word


def action_items(segments: list[Segment], voice_names: dict[str, str] | None = None,
                 meeting_date: str = "") -> list[ActionItem]:
    """Requests, replies, declines, hand-overs and promises → action items with owners and
    due dates (said and, with `meeting_date`, as a date). `voice_names` maps speaker labels
    to names (from name_voices or the student); a label without one stays the owner."""
    sents = sentences(segments)
    canon = canonical_names(sents)
    voice_names = voice_names or {}
    items: list[ActionItem] = []
    pending: _Pending | None = None

    def speaker_name(k: int, asked_by: str = "") -> str:
        """The speaker of sentence k: thanked just after (before any new request), addressed just
        before, else the voice's name. With `asked_by` (the voice that made a declined request), k
        takes the task over: the asker's own voice is the asker, and being addressed before does not
        count (the one addressed was the one who declined); a voice with no name that answers the
        decline ("No problem, I'll…") is taken for the asker's (clustering often splits a voice in two)."""
        for later in sents[k + 1:k + 3]:
            if _request(later.text):
                break
            if (name := thanked(later.text)):
                return canon.get(name, name)
        label = sents[k].speaker
        if asked_by:
            own, asker = voice_names.get(label, label), voice_names.get(asked_by, asked_by)
            if UNNAMED_VOICE.fullmatch(own) and not UNNAMED_VOICE.fullmatch(asker) and \
                    ANSWERS_DECLINE.match(sents[k].text):
                return asker
            return own
        for earlier in reversed(sents[max(0, k - 2):k]):
            name = addressed(earlier.text)
            if name and not _request(earlier.text):
                return canon.get(name, name)
        label = sents[k].speaker
        return voice_names.get(label, label)

    def accepted(k: int) -> None:
        """Sentence k takes the pending request: after a decline it passes to whoever is
        suggested or takes it; a request that named nobody goes to the one who accepts."""
        if pending.declined:
            pending.item.owner = pending.suggested or speaker_name(k, pending.asker)
            pending.declined = False
        elif not pending.item.owner:
            pending.item.owner = speaker_name(k)

    def finish(p: _Pending | None) -> None:
        if p and not p.done and p.item.owner and (not p.declined or p.item.owner != p.names[0]):
            items.append(p.item)
        if p:
            p.done = True

    for k, s in enumerate(sents):
        text = s.text
        request = _request(text) or _nameless_request(text)
        if pending and k - pending.asked_at > WINDOW + 2 * pending.declined:
            if pending.declined and pending.suggested:
                pending.item.owner, pending.declined = pending.suggested, False  # suggested, nobody objected
            finish(pending)  # declined and nobody named: dropped
            pending = None
        if request:
            name, raw = request
            task, due = _task(raw)
            if pending and not pending.done and ANAPHORIC.match(task) and name:  # "Wei, could you do it?"
                pending.item.owner = canon.get(name, name)  # "Omar, could you take it instead?"
                pending.declined = False
                continue
            finish(pending)
            pending = None
            if _is_task(task):
                owner = canon.get(name, name)
                pending = _Pending(ActionItem(owner, _capital(task), due, [s.segment]), k, s.speaker, names=[owner])
            continue
        if pending and not pending.done:
            if DROPPED.search(text):
                pending.done = True
                continue
            if DECLINE.search(text):
                pending.declined = True
                if (name := _first_name(SUGGESTED, text)):
                    pending.suggested = canon.get(name, name)
                continue
            if (name := _first_name(SUGGESTED, text)) and not SELF.search(text) and \
                    (pending.declined or (not ACCEPT.match(text) and canon.get(name, name) != pending.item.owner)):
                pending.declined = True  # "Maybe Ben could?" passes the request on without saying no
                pending.suggested = canon.get(name, name)
                continue
            if (name := thanked(text)):
                name = canon.get(name, name)
                if pending.declined or not pending.item.owner:
                    pending.item.owner, pending.declined = name, False
                continue
            promise = SELF.search(text)
            if promise:
                task, due = _task(promise.group("task"))
                said = _words(task)
                same = not _is_task(task) or PRONOUN_OBJECT.match(task) or \
                    len(said & _words(pending.item.task)) >= max(1, len(said) / 2)
                if same:
                    pending.item.due = due or pending.item.due  # "Yes, I'll confirm it tomorrow": their word
                    accepted(k)
                    continue
            elif ACCEPT.search(text):
                accepted(k)
                continue
        for promise in SELF.finditer(text):
            task, due = _task(promise.group("task"))
            question = next((q.text for q in reversed(sents[max(0, k - 2):k]) if q.text.endswith("?")), "")
            if FIND_OUT.match(task) and question and not _request(question):
                task = f"{task}: {question}"  # "Do we need a licence?" "I'll find out."
            if _is_task(task):
                finish(pending)
                pending = None
                items.append(ActionItem(speaker_name(k), _capital(task), due, [s.segment]))
        answer = sents[k + 1] if k + 1 < len(sents) and sents[k + 1].speaker != s.speaker else None
        answered = bool(answer and ACCEPT.match(answer.text))
        for announced in [*ANNOUNCED.finditer(text), *(m for m in DICTATED.finditer(text) if answered)]:
            name = announced.group("name")
            task, due = _task(announced.group("task"))
            if (canon.get(name) or answered) and _is_task(task) and _is_name(name):
                items.append(ActionItem(canon.get(name, name), _capital(task), due, [s.segment]))
    finish(pending)
    for item in items:
        item.due_date = dates.iso(item.due, meeting_date)
    return _deduplicated(items)


def _nameless_request(text: str) -> tuple[str, str] | None:
    """("", task) for a request that names nobody (asked after _request found no name): whoever
    accepts it owns it."""
    for pattern in NAMELESS_TASK:
        match = pattern.search(text)
        if match:
            return "", match.group("task")
    return None


def _request(text: str) -> tuple[str, str] | None:
    for pattern in REQUESTS:
        match = pattern.search(text)
        if match and _is_name(match.group("name")):
            return match.group("name"), match.group("task")
    match = REQUEST_NAME_LAST.search(text)
    if match and _is_name(match.group("name")) and match.group("task").split()[-1].lower() not in OBJECT_OF:
        return match.group("name"), match.group("task")
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _deduplicated(items: list[ActionItem]) -> list[ActionItem]:
    """One item per owner and task (a recap repeats what was asked)."""
    kept: list[ActionItem] = []
    for item in items:
        twin = next((k for k in kept if k.owner == item.owner and _words(k.task) == _words(item.task)), None)
        if twin:
            twin.due, twin.due_date = twin.due or item.due, twin.due_date or item.due_date
        else:
            kept.append(item)
    return kept


LOCATION = re.compile(r"\b(?:we're|we are)\s+(?:meeting\s+)?(?:in|at)\s+(?P<place>[^.,?!]+?)(?:\s+(?:today|tonight|"
                      r"this time|this week|again))?[.,!]|\b(?:coming|welcome) to\s+(?P<place2>[^.,?!]+?)[.,!]", re.I)
# "Next meeting is on Monday" (heard as "Next meeting in on Monday"); "see you next time" says no when.
NEXT_MEETING = re.compile(r"\b(?:next (?:meeting|call|session|catch-up|check-in)(?:\s+(?:is|will be|'s|in))*|(?:we'll|we will|let's|shall we) meet again|"
                          r"see you (?:all )?(?:again )?(?:on\b|(?=next\b)(?!next\s+time\b)))\s*(?P<when>[^.?!]*)", re.I)


def location(segments: list[Segment]) -> str:
    """Where the meeting is, when someone says it ("We're in room 204 today")."""
    for s in sentences(segments):
        match = LOCATION.search(s.text + " ")
        if match:
            return (match.group("place") or match.group("place2")).strip()
    return ""


def next_meeting(segments: list[Segment], meeting_date: str = "") -> str:
    """When the next meeting is, as said (and its date when it resolves): "next Tuesday (2026-03-10)"."""
    for s in sentences(segments):
        match = NEXT_MEETING.search(s.text)
        if match:
            when = re.sub(r",?\s*same (?:place|time|room)$", "", match.group("when").strip(" ,"), flags=re.I)
            _, due = dates.split_due(" " + when)
            date = dates.iso(due, meeting_date) if due else ""
            return f"{when} ({date})" if date else when
    return ""


def soundex(name: str) -> str:
    """American Soundex: the first letter and three digits for the consonant sounds that follow."""
    codes = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
             "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}
    letters = [c for c in name.lower() if c.isalpha()]
    if not letters:
        return ""
    digits, last = [], codes.get(letters[0], "")
    for c in letters[1:]:
        code = codes.get(c, "")
        if code and code != last:
            digits.append(code)
        if c not in "hw":
            last = code
    return (letters[0].upper() + "".join(digits) + "000")[:4]


def sound_key(name: str) -> str:
    """Soundex after spelling a first /k/ or /f/ one way, so that "Quame" and "Kwame", "Catherine"
    and "Katherine", "Philippa" and "Filippa" share a key (Soundex itself keeps the first letter)."""
    lower = name.lower()
    return soundex(re.sub(r"^(?:qu|q|c(?=[aoulr])|ch(?=r))", "k", re.sub(r"^ph", "f", lower)))


# Names known before the meeting (from its invitation), typed by the student: at most this many.
MAX_GIVEN_NAMES = 40
_NAME_LIST = re.compile(r"[,;\n]+")


def names_given(text: str) -> list[str]:
    """'Ana, Kwame; Leila Haddad' → ['Ana', 'Kwame', 'Leila Haddad']: each once, the first
    MAX_GIVEN_NAMES, only pieces with a letter in them and no longer than a name would be."""
    names: dict[str, str] = {}
    for piece in _NAME_LIST.split(text or ""):
        name = " ".join(piece.split())
        if any(c.isalpha() for c in name) and len(name) <= 40:
            names.setdefault(name.casefold(), name)
    return list(names.values())[:MAX_GIVEN_NAMES]


def _alike(heard: str, given: str) -> bool:
    """Spelled alike (difflib ratio ≥ 0.85, or ≥ 0.65 with the same first letter: "Mary", "Marta")
    or sounding alike (sound_key: "Quame", "Kwame")."""
    a, b = heard.lower(), given.lower()
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return ratio >= 0.85 or (a[0] == b[0] and ratio >= 0.65) or sound_key(a) == sound_key(b)


def spelled_as_given(segments: list[Segment], names: list[str]) -> tuple[list[Segment], dict[str, str]]:
    """The transcript with each name heard (addressed, thanked, introduced) that is alike exactly one
    of the names given written as given ("Quame" → "Kwame"), and {heard: given} for what changed.
    Speech recognition spells an unfamiliar name by its sound; the invitation knows how it is written."""
    given = list(dict.fromkeys(n.split()[0] for n in names))  # people are called by their first names
    changed = {}
    for heard in candidate_attendees(segments):
        match = [n for n in given if _alike(heard, n)]
        if heard not in given and len(match) == 1:
            changed[heard] = match[0]
    if not changed:
        return segments, changed
    said = " ".join(s.text for s in segments)
    # A heard "name" that is also a word said in lower case ("My" for Maya: "my name is…") is
    # rewritten only where it stands as a name does, before a comma or a stop ("Thanks, My.").
    heard_names = re.compile("|".join(
        rf"\b{re.escape(heard)}\b" + (r"(?=\s*[,.?!]|\s*$)" if re.search(rf"\b{re.escape(heard.lower())}\b", said) else "")
        for heard in changed))
    return [Segment(s.start, s.end, heard_names.sub(lambda m: changed[m.group(0)], s.text), s.speaker)
            for s in segments], changed
