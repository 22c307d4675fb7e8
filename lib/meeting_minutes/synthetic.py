"""Synthetic meetings for scoring the minutes: a seeded script writer and an
espeak-ng + sox renderer.

`compose(seed, ...)` writes a meeting from phrase banks: a chair, 2-6
people with distinct espeak voices, with or without a round of
introductions, people named only in passing ("Ana, could you…",
"Thanks, Kwame"), requests that are accepted, handed to someone else or
declined, "I will…" promises, deadlines in many forms (each chosen as a
date first, then said), decisions, open questions, a place and a next
meeting. The script carries its own ground truth: who attended, every
action item with its owner and due date, the decisions, and (after
`render`) when each person spoke, for the diarisation error rate.

`render(script, path)` speaks each turn with the speaker's voice, joins the
turns with 0.2-0.5 s pauses and overlaps some (short interjections over
the end of a turn), and writes a 16 kHz mono WAV.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
EVAL_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "meeting" / "eval"
# Meetings written by hand in other words than the phrase banks (same format), to check the rules
# on phrasing the generator never produces.
HANDWRITTEN_DIR = EVAL_DIR.parent / "handwritten"
CACHE_DIR = Path(__file__).resolve().parent.parent.parent / ".cache" / "glassbox" / "meeting_eval"

NAMES = ["Ana", "Kwame", "Lea", "Priya", "Tomas", "Mei", "Omar", "Sofia", "Jonas", "Aisha", "Diego", "Hannah",
         "Ravi", "Elena", "Samuel", "Yuki", "Fatima", "Lukas", "Grace", "Nikhil", "Chloe", "Mateo", "Zara",
         "Daniel", "Ingrid", "Pedro", "Amara", "Felix", "Nadia", "Oscar", "Leila", "Marcus", "Rosa", "Ibrahim",
         "Clara", "Kenji", "Olivia", "Tariq", "Helen", "Victor", "Julia", "Ahmed", "Emma", "Carlos", "Sarah",
         "Peter", "Linda", "Musa", "Irene", "George", "Martin", "Alice", "Hugo", "Nora", "Simon", "Maya"]
VOICES = ["en-us+m3", "en-gb+f3", "en-us+f5", "en-gb-scotland+m1", "en-029+m5", "en-gb-x-rp+f2",
          "en-us+m7", "en-gb+m4", "en-us+f2", "en-gb-x-gbclan+m2", "en-us-nyc+f4", "en-gb+m6"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
            9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth", 14: "fourteenth",
            15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth",
            20: "twentieth", 21: "twenty-first", 22: "twenty-second", 23: "twenty-third", 24: "twenty-fourth",
            25: "twenty-fifth", 26: "twenty-sixth", 27: "twenty-seventh", 28: "twenty-eighth"}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

# Each topic: tasks (base-form verb phrases), things said, decisions, open questions, places.
TOPICS = {
    "community garden": {
        "tasks": ["order twenty bags of compost", "fix the gate at the north entrance", "email the council about the water tap",
                  "make a watering rota for the summer", "print the flyers for the open day", "buy new seed trays"],
        "said": ["The tomatoes did well this year but the beans were eaten by slugs.",
                 "Three new families asked for a plot last month.",
                 "The shed roof leaks when it rains hard."],
        "decisions": ["hold the open day on the first Saturday of the month", "give the two empty plots to the school"],
        "questions": ["Who pays for the new hose?", "Can we keep bees on the roof of the shed?"],
        "places": ["the garden shed", "the community hall"]},
    "football club": {
        "tasks": ["book the pitch for the tournament", "collect the kit money from the parents", "wash the match shirts",
                  "find a referee for the cup game", "update the team sheet on the website", "order new footballs"],
        "said": ["The under twelves won three games in a row.",
                 "Two of the goal nets are torn.",
                 "Training on Wednesdays clashes with the swimming lessons."],
        "decisions": ["move Wednesday training to Thursday", "buy a second set of goal nets"],
        "questions": ["Do we enter the winter league?", "Who drives the minibus to the away game?"],
        "places": ["the clubhouse", "the changing rooms"]},
    "software release": {
        "tasks": ["write the release notes", "fix the login bug on the mobile app", "review the payment pull request",
                  "update the installation guide", "run the load test on the staging server", "tag the release candidate"],
        "said": ["The crash rate went down after the last patch.",
                 "Support had forty tickets about the password reset.",
                 "The staging server is running out of disk space."],
        "decisions": ["ship version two point one without the dark mode", "freeze new features from today"],
        "questions": ["Do we still support the old browser?", "Should the beta be open to everyone?"],
        "places": ["meeting room three", "the video call"]},
    "school trip": {
        "tasks": ["send the consent forms home", "book the coach for the museum trip", "check the allergy list",
                  "call the museum about the group ticket", "collect the deposits", "plan the seating on the coach"],
        "said": ["Sixty two pupils want to go this year.",
                 "The museum has a new dinosaur gallery.",
                 "Last year the coach was forty minutes late."],
        "decisions": ["take the pupils to the science museum", "leave school at eight thirty"],
        "questions": ["Do we need a first aider on each coach?", "Can the parents join the trip?"],
        "places": ["the staff room", "classroom twelve"]},
    "bakery": {
        "tasks": ["order more flour from the mill", "clean the big oven", "test the new rye recipe",
                  "put the opening hours on the door", "train the new assistant on the till", "count the stock in the cellar"],
        "said": ["Sourdough sold out before ten every day this week.",
                 "The price of butter went up again.",
                 "A customer asked for gluten free bread."],
        "decisions": ["open at seven on Saturdays", "stop selling the cheese scones"],
        "questions": ["Should we deliver to the cafe next door?", "Do we need a second mixer?"],
        "places": ["the back kitchen", "the shop floor"]},
    "theatre group": {
        "tasks": ["sew the costumes for the second act", "paint the castle backdrop", "sell tickets at the market",
                  "print the programmes", "book the hall for the dress rehearsal", "learn the new lines for scene four"],
        "said": ["The first act runs ten minutes too long.",
                 "The spotlight on the left flickers.",
                 "We have sold half the tickets for the opening night."],
        "decisions": ["cut the song in the second act", "charge eight pounds a ticket"],
        "questions": ["Who plays the king if Martin is ill?", "Do we need a microphone for the narrator?"],
        "places": ["the church hall", "the rehearsal room"]},
    "research lab": {
        "tasks": ["clean the centrifuge", "order the new pipette tips", "write the methods section of the paper",
                  "back up the microscope images", "book the cold room for the experiment", "send the samples to the sequencing lab"],
        "said": ["The last batch of cells was contaminated.",
                 "The reviewers asked for two more experiments.",
                 "The freezer alarm went off twice this week."],
        "decisions": ["submit the paper to the smaller journal", "run the experiment again with fresh cells"],
        "questions": ["Is there money left for a new freezer?", "Should the students present at the conference?"],
        "places": ["the seminar room", "lab two"]},
    "student council": {
        "tasks": ["count the votes for the new logo", "write a letter to the head teacher about the lockers",
                  "organise the charity bake sale", "put up posters about the recycling bins",
                  "ask the canteen about vegetarian options", "prepare the slides for the assembly"],
        "said": ["Many students said the lockers are too small.",
                 "The bake sale last term raised three hundred pounds.",
                 "The recycling bins are always full by lunch."],
        "decisions": ["give the bake sale money to the animal shelter", "meet every second Tuesday"],
        "questions": ["Can we have music in the canteen?", "Who counts the money after the sale?"],
        "places": ["the library", "room two hundred and four"]},
    "hospital ward": {
        "tasks": ["update the night shift rota", "restock the dressing trolley", "check the fire exits",
                  "write the handover notes template", "order new blood pressure cuffs", "book the training on the new pumps"],
        "said": ["The new infusion pumps arrive next month.",
                 "We had four admissions overnight.",
                 "The break room fridge is broken again."],
        "decisions": ["start the handover at seven sharp", "keep one bed free for emergencies"],
        "questions": ["Do we get an extra nurse at weekends?", "Who signs off the new rota?"],
        "places": ["the ward office", "the nurses' station"]},
    "band rehearsal": {
        "tasks": ["tune the piano before the concert", "copy the parts for the new song", "book the recording studio",
                  "fix the broken cymbal stand", "send the set list to the venue", "post the concert date online"],
        "said": ["The bridge of the second song is still too fast.",
                 "The venue holds about two hundred people.",
                 "Our bass player broke a string last night."],
        "decisions": ["open the concert with the slow song", "record the album in the spring"],
        "questions": ["Do we play an encore?", "Should we sell our own merchandise?"],
        "places": ["the garage", "the music room"]},
}

GREETINGS = ["Good morning, everyone, let's get started.", "Hi all, thanks for coming.", "Okay, shall we begin?",
             "Hello everyone, let's start, we have a lot to cover."]
AGENDA = ["First, the {topic}.", "Let's talk about the {topic} first.", "The main thing today is the {topic}."]
NEXT_TOPIC = ["Next topic.", "Let's move on.", "Okay, moving on.", "Another thing."]
INTRO_CHAIR = ["I'm {name} and I'll chair today.", "My name is {name}, I'm chairing.", "I'm {name}, I run these meetings."]
INTRO = ["Hi, I'm {name}.", "I'm {name}, hello.", "Hello, my name is {name}.", "And I'm {name}."]
LOCATION = ["We're in {place} today.", "Thanks for coming to {place}.", "We're meeting in {place} this time."]
REQUEST = ["{name}, could you {task} {due}?", "{name}, can you {task} {due}?", "{name}, please {task} {due}.",
           "Could you {task} {due}, {name}?", "{name}, would you {task} {due}?", "I'd like {name} to {task} {due}."]
ACCEPT = ["Sure, I'll do it.", "Yes, no problem.", "Okay, I can do that.", "Of course.", "Will do.",
          "Sure, leave it with me.", "Yes, I'll take care of it."]
THANKS = ["Thanks, {name}.", "Great, thank you {name}.", "Thank you, {name}.", "Perfect, thanks {name}."]
DECLINE = ["Sorry, I can't, I'm away that week.", "I'm afraid I don't have time this week.",
           "I can't do that one, sorry, I'm travelling."]
SUGGEST = ["Maybe {name} could do it?", "{name} knows more about that than me.", "Could {name} take it instead?"]
TAKE_OVER = ["Yes, I'll take it.", "Sure, I can do that.", "Fine, I'll do it."]
CHAIR_TAKES = ["Okay, then I'll {task} myself {due}.", "No problem, I'll {task} {due} then."]
DROPPED = ["Okay, let's leave that for now.", "Fine, it can wait until next time."]
PROMISE = ["I'll {task} {due}.", "I will {task} {due}.", "I can {task} {due}.", "Let me {task} {due}.",
           "I'm going to {task} {due}."]
ASK_UPDATE = ["{name}, anything on the {topic}?", "{name}, what about the {topic}?", "{name}, any news?"]
DECIDE = ["So we agreed to {decision}.", "Let's go with that: we will {decision}.", "Okay, we decided to {decision}.",
          "The decision is to {decision}."]
AGREE = ["Sounds good.", "Agreed.", "Yes, that makes sense.", "Fine by me."]
DOUBT = ["I'm not sure, we haven't decided yet.", "No idea yet, let's leave that open.",
         "I don't know, it depends on the budget."]
BACKCHANNEL = ["Right.", "Okay.", "Yes.", "Mm-hm."]
NEXT_MEETING = ["Next meeting is {when}.", "Let's meet again {when}.", "We'll meet again {when}, same place."]
CLOSE = ["That's all, thanks everyone.", "Okay, that's it for today.", "Thanks all, see you next time."]


def _weekday_on_or_after(day: dt.date, weekday: int, skip_today: bool = True) -> dt.date:
    ahead = (weekday - day.weekday()) % 7
    return day + dt.timedelta(days=ahead or (7 if skip_today else 0))


def pick_due(rng: random.Random, meeting: dt.date) -> tuple[str, str, str]:
    """(spoken phrase with its preposition, the phrase without it, ISO date): the date first, then said."""
    kind = rng.choice(["weekday", "next_weekday", "ordinal", "date_month", "tomorrow", "end_next_week",
                       "end_of_week", "end_of_month", "in_days", "none", "none"])
    if kind == "none":
        return "", "", ""
    if kind == "weekday":
        w = rng.randrange(5)
        said = WEEKDAYS[w]
        date = _weekday_on_or_after(meeting, w)
        prep = rng.choice(["by", "by", "before", "on"])
    elif kind == "next_weekday":
        w = rng.randrange(5)
        said = f"next {WEEKDAYS[w]}"
        date = meeting - dt.timedelta(days=meeting.weekday()) + dt.timedelta(days=7 + w)
        prep = rng.choice(["by", "on"])
    elif kind == "ordinal":
        day = rng.randrange(meeting.day + 2, 29) if meeting.day < 26 else rng.randrange(3, 20)
        month = meeting.month if day > meeting.day else meeting.month % 12 + 1
        date = dt.date(meeting.year + (month < meeting.month), month, day)
        said = f"the {ORDINALS[day]}"
        prep = rng.choice(["before", "by"])
    elif kind == "date_month":
        date = meeting + dt.timedelta(days=rng.randrange(10, 40))
        date = date if date.day <= 28 else date.replace(day=28)
        said = rng.choice([f"the {ORDINALS[date.day]} of {MONTHS[date.month - 1]}",
                           f"{MONTHS[date.month - 1]} {ORDINALS[date.day]}"])
        prep = rng.choice(["by", "before"])
    elif kind == "tomorrow":
        said, prep, date = "tomorrow", rng.choice(["", "by"]), meeting + dt.timedelta(days=1)
    elif kind == "end_next_week":
        said, prep = "the end of next week", "by"
        date = meeting - dt.timedelta(days=meeting.weekday()) + dt.timedelta(days=7 + 4)
    elif kind == "end_of_week":
        said, prep = "the end of the week", "by"
        date = meeting - dt.timedelta(days=meeting.weekday()) + dt.timedelta(days=4)
    elif kind == "end_of_month":
        said, prep = "the end of the month", "by"
        first_next = dt.date(meeting.year + (meeting.month == 12), meeting.month % 12 + 1, 1)
        date = first_next - dt.timedelta(days=1)
    else:
        n = rng.choice([2, 3, 10])
        said, prep = f"{'two' if n == 2 else 'three' if n == 3 else 'ten'} days", "within"
        date = meeting + dt.timedelta(days=n)
        if rng.random() < 0.5:
            said, prep = said.replace(" days", " days' time"), "in"
    spoken = f"{prep} {said}".strip()
    return spoken, said, date.isoformat()


class Writer:
    """Accumulates a script's turns and its ground truth."""

    def __init__(self, rng: random.Random, people: list[str], meeting: dt.date):
        self.rng, self.people, self.meeting = rng, people, meeting
        self.turns: list[dict] = []
        self.actions: list[dict] = []
        self.decisions: list[str] = []
        self.questions: list[str] = []

    def say(self, speaker: str, text: str, overlap: bool = False) -> None:
        if self.turns and self.turns[-1]["speaker"] == speaker and not overlap and not self.turns[-1]["overlap"]:
            self.turns[-1]["text"] += " " + text
        else:
            self.turns.append({"speaker": speaker, "text": text, "overlap": overlap})

    def pick(self, bank: list[str], **fields) -> str:
        return self.rng.choice(bank).format(**fields).replace(" .", ".").replace(" ?", "?").replace(" ,", ",")

    def action(self, owner: str, task: str, due: tuple[str, str, str]) -> None:
        self.actions.append({"owner": owner, "task": task[0].upper() + task[1:], "due": due[1], "due_date": due[2]})


def compose(seed: int, people_count: int, topics: int, introductions: bool, meeting_date: str,
            unnamed: int = 0) -> dict:
    """A meeting script with its ground truth (see the module docstring). `unnamed` people
    speak but are never named, as happens when someone only comments."""
    rng = random.Random(seed)
    meeting = dt.date.fromisoformat(meeting_date)
    people = rng.sample(NAMES, people_count)
    chair, others = people[0], people[1:]
    named = set(people[:people_count - unnamed])
    w = Writer(rng, people, meeting)
    voices = rng.sample(VOICES, people_count)
    subject = rng.sample(sorted(TOPICS), topics)
    place = rng.choice(TOPICS[subject[0]]["places"]) if rng.random() < 0.7 else ""

    w.say(chair, w.pick(GREETINGS))
    if introductions:
        w.say(chair, w.pick(INTRO_CHAIR, name=chair))
        for p in others:
            if p in named:
                w.say(p, w.pick(INTRO, name=p))
    if place:
        w.say(chair, w.pick(LOCATION, place=place))
    talkers = [p for p in others if p in named] or others
    for number, topic in enumerate(subject):
        bank = TOPICS[topic]
        w.say(chair, w.pick(AGENDA if number == 0 else NEXT_TOPIC, topic=topic))
        if number:
            w.say(chair, f"The {topic}.")
        tasks = rng.sample(bank["tasks"], len(bank["tasks"]))
        for line in rng.sample(bank["said"], 2):
            w.say(rng.choice(others), line)
            if rng.random() < 0.4:
                w.say(rng.choice([p for p in people if p != w.turns[-1]["speaker"]]), rng.choice(BACKCHANNEL), overlap=True)
        events = ["accept", "accept", "promise", rng.choice(["reassign", "decline_chair", "decline_drop", "accept",
                                                              "promise"])]
        rng.shuffle(events)
        for event in events:
            _action_event(w, event, chair, talkers, tasks.pop(), topic)
        decision = rng.choice(bank["decisions"])
        w.say(rng.choice(people), w.pick(DECIDE, decision=decision))
        w.say(rng.choice([p for p in people if p != w.turns[-1]["speaker"]]), w.pick(AGREE))
        w.decisions.append(decision)
        question = rng.choice(bank["questions"])
        asker = rng.choice(people)
        w.say(asker, question)
        w.say(rng.choice([p for p in people if p != asker]), w.pick(DOUBT))
        w.questions.append(question)
    _name_everyone(w, chair, others, named)
    next_meeting = ""
    if rng.random() < 0.75:
        due = pick_due(rng, meeting)
        while not due[1] or "end" in due[1] or "days" in due[1] or "tomorrow" in due[1]:
            due = pick_due(rng, meeting)
        next_meeting = ("" if due[1].startswith("next") else "on ") + due[1]
        w.say(chair, w.pick(NEXT_MEETING, when=next_meeting))
    w.say(chair, w.pick(CLOSE))
    return {"seed": seed, "date": meeting_date, "introductions": introductions, "place": place,
            "next_meeting": next_meeting,
            "voices": {p: {"voice": v, "pitch": rng.randrange(20, 85), "speed": rng.randrange(120, 150)}
                       for p, v in zip(people, voices)},
            "turns": w.turns,
            "truth": {"attendees": sorted(p for p in named if any(p in t["text"] for t in w.turns)), "speakers": people, "action_items": w.actions,
                      "decisions": w.decisions, "open_questions": w.questions, "location": place,
                      "next_meeting": next_meeting}}


def _name_everyone(w: Writer, chair: str, others: list[str], named: set[str]) -> None:
    """Make sure each person meant to be named is named aloud once: the chair is thanked for
    organising after the greeting, others are asked for a last word before the end."""
    said = " ".join(t["text"] for t in w.turns)
    if chair in named and chair not in said:
        w.turns.insert(1, {"speaker": w.rng.choice(others), "text": f"Thanks for organising this, {chair}.",
                           "overlap": False})
    for p in others:
        if p in named and p not in said:
            w.say(chair, w.pick(["{name}, anything else from you?", "{name}, anything to add?"], name=p))
            w.say(p, w.pick(["No, that's all from me.", "Nothing else, thanks."]))


def _action_event(w: Writer, event: str, chair: str, talkers: list[str], task: str, topic: str) -> None:
    rng = w.rng
    owner = rng.choice([p for p in talkers if p != chair] or talkers)
    asker = chair if rng.random() < 0.7 else rng.choice([p for p in w.people if p != owner])
    due = pick_due(rng, w.meeting)
    if event == "promise":
        context = rng.choice(["asked", "thanked", "plain"])
        if context == "asked":
            w.say(asker, w.pick(ASK_UPDATE, name=owner, topic=topic))
        w.say(owner, w.pick(PROMISE, task=task, due=due[0]))
        if context == "thanked":
            w.say(asker, w.pick(THANKS, name=owner))
        w.action(owner, task, due)
        return
    w.say(asker, w.pick(REQUEST, name=owner, task=task, due=due[0]))
    if event == "accept":
        w.say(owner, w.pick(ACCEPT))
        if rng.random() < 0.6:
            w.say(asker, w.pick(THANKS, name=owner))
        w.action(owner, task, due)
        return
    w.say(owner, w.pick(DECLINE))
    if event == "reassign":
        others = [p for p in talkers if p not in (owner, asker)]
        if others:
            taker = rng.choice(others)
            w.say(owner, w.pick(SUGGEST, name=taker))
            w.say(taker, w.pick(TAKE_OVER))
            w.say(asker, w.pick(THANKS, name=taker))
            w.action(taker, task, due)
            return
        event = "decline_chair"
    if event == "decline_chair":
        w.say(asker, w.pick(CHAIR_TAKES, task=task, due=due[0]))
        w.action(asker, task, due)
    else:
        w.say(asker, w.pick(DROPPED))


# --- rendering ---------------------------------------------------------------------------

# No dither: sox adds random noise when it resamples to 16 bits, so each rendering of a meeting
# differed and Whisper heard a name in one and not in another (a test failed in one CI run of many).
SOX_OPTIONS = ("-D",)


def _speak(text: str, voice: dict, folder: Path) -> np.ndarray:
    import soundfile as sf

    raw, wav = folder / "raw.wav", folder / "turn.wav"
    subprocess.run(["espeak-ng", "-v", voice["voice"], "-p", str(voice["pitch"]), "-s", str(voice["speed"]),
                    "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(["sox", *SOX_OPTIONS, str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(wav)], check=True,
                   capture_output=True)
    samples, _ = sf.read(wav, dtype="float32")
    return np.trim_zeros(samples.astype(np.float32), trim="fb")


def render(script: dict, path: Path) -> list[dict]:
    """Speak the script into a 16 kHz WAV at `path`; returns each turn's speaker, start and end (s).
    Turns follow each other after 0.2-0.5 s; an `overlap` turn starts 0.4 s before the previous one ends."""
    import soundfile as sf

    rng = random.Random(script["seed"])
    pieces, times, clock = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for turn in script["turns"]:
            samples = _speak(turn["text"], script["voices"][turn["speaker"]], Path(tmp))
            if turn["overlap"] and times:
                start = max(times[-1][2] - int(0.4 * SAMPLE_RATE), times[-1][1])
            else:
                start = clock + int(rng.uniform(0.2, 0.5) * SAMPLE_RATE)
            pieces.append((start, samples))
            times.append((turn["speaker"], start, start + len(samples)))
            clock = max(clock, start + len(samples))
    mix = np.zeros(clock + SAMPLE_RATE // 2, np.float32)
    for start, samples in pieces:
        mix[start:start + len(samples)] += samples
    mix /= max(1.0, float(np.abs(mix).max()) / 0.95)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, mix, SAMPLE_RATE, subtype="PCM_16")
    return [{"speaker": s, "start": round(a / SAMPLE_RATE, 2), "end": round(b / SAMPLE_RATE, 2)} for s, a, b in times]


def script_hash(script: dict) -> str:
    """Names the rendering: the script and how it is rendered (a change of either renders it again)."""
    rendering = {k: script[k] for k in ("seed", "voices", "turns")} | {"sox": SOX_OPTIONS}
    return hashlib.sha1(json.dumps(rendering, sort_keys=True).encode()).hexdigest()[:16]


def rendered(script: dict) -> tuple[Path, list[dict]]:
    """The script's WAV and turn times, rendered once into CACHE_DIR."""
    path = CACHE_DIR / f"{script_hash(script)}.wav"
    times_path = path.with_suffix(".turns.json")
    if not (path.exists() and times_path.exists()):
        times_path.parent.mkdir(parents=True, exist_ok=True)
        times_path.write_text(json.dumps(render(script, path)))
    return path, json.loads(times_path.read_text())


# The evaluation set: (seed, people, topics, introductions, date, unnamed), from 1 to about 10 minutes.
EVAL_SET = [(101, 3, 1, True, "2026-03-02", 0), (102, 4, 1, False, "2026-04-15", 1),
            (103, 2, 2, False, "2026-05-07", 0), (104, 5, 2, True, "2026-06-19", 0),
            (105, 6, 3, False, "2026-09-08", 1), (106, 4, 3, False, "2026-10-21", 0),
            (107, 3, 4, True, "2026-11-12", 0), (108, 5, 9, False, "2026-01-26", 0),
            (109, 4, 2, False, "2026-02-27", 0), (110, 6, 5, True, "2026-07-30", 0)]


def eval_scripts(folder: Path = EVAL_DIR) -> dict[str, dict]:
    """The committed evaluation set, {name: script} (`HANDWRITTEN_DIR`: the meetings written by hand)."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("meeting_*.json"))}


def main() -> None:
    """Write the evaluation set's scripts (and truth) to assets/meeting/eval/ and render them."""
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    for seed, people, topics, intros, date, unnamed in EVAL_SET:
        script = compose(seed, people, topics, intros, date, unnamed)
        name = f"meeting_{seed}"
        (EVAL_DIR / f"{name}.json").write_text(json.dumps(script, indent=1) + "\n")
        path, times = rendered(script)
        print(f"{name}: {people} people, {times[-1]['end'] / 60:.1f} min, {len(script['truth']['action_items'])} "
              f"actions, introductions {intros} -> {path}")


if __name__ == "__main__":
    main()
