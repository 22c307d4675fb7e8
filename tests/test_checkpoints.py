"""The checkpoint machinery: answers parse like a student types them; every lesson's set is well formed
and mostly tests concepts; the first try is the score and retries are practice, on every lesson's page."""
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import checkpoints, course, progress
from lib.checkpoints import Question, Reveal

LESSONS = [l.key for l in course.available_lessons() if checkpoints.has_checkpoints(l.key)]


@pytest.mark.parametrize("typed, value", [("1,234", 1234), (" 1 234 ", 1234), ("1.5e6", 1.5e6), ("110M", 110e6),
                                          ("175B", 175e9), ("2k", 2000), ("-3", -3), (".5", 0.5)])
def test_numbers_as_students_type_them(typed, value):
    assert checkpoints.parse_number(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", None, "abc", "1.2.3", "12 apples", "1e", "M"])
def test_not_numbers(typed):
    assert checkpoints.parse_number(typed) is None


def test_checking_answers():
    exact = Question("?", 1234, "")
    assert exact.check("1,234") and not exact.check("1235") and not exact.check("lots")
    close = Question("?", 0.2318, "", tolerance=0.01)
    assert close.check("0.23") and not close.check("0.2")
    choice = Question("?", "cat", "", options=("cat", "dog"))
    assert choice.check("cat") and not choice.check("dog") and not choice.check(None)
    predicted = Question("?", None, "", options=("cat", "dog"), kind="predict", reveal=lambda: Reveal("dog", ""))
    assert predicted.check("dog", "dog") and not predicted.check("cat", "dog")


@pytest.mark.parametrize("bad, reason", [
    (dict(kind="quiz"), "kind must be one of"),
    (dict(kind="predict"), "needs options and a reveal"),
    (dict(kind="predict", options=("a", "b")), "needs options and a reveal"),
    (dict(answer=None), "only a predict question"),
    (dict(options=("a", "b"), answer="c"), "not one of the options"),
    (dict(options=("a", "b"), answer="a", feedback={"a": "right is not wrong"}), "wrong options only"),
    (dict(options=("a", "b"), answer="a", feedback={"z": "no such option"}), "wrong options only"),
])
def test_malformed_questions_are_refused(bad, reason):
    with pytest.raises(ValueError, match=reason):
        Question(**{"prompt": "?", "answer": 1, "solution": "", **bad})


def test_first_try_is_the_score_and_retries_are_practice():
    assert checkpoints.first_try([]) is None and checkpoints.first_try([False, True]) is False
    assert checkpoints.try_note([False, True]) == "correct on the second try"
    assert checkpoints.try_note([False, False, True]) == "correct on the third try"
    assert checkpoints.try_note([False] * 6 + [True]) == "correct on try 7"
    assert checkpoints.try_note([False, False]) == "not yet correct (2 tries)"
    score = checkpoints.set_score(7, 5, {1: [True, False], 2: [False, True], 3: [False, False], 4: []})
    assert score == checkpoints.SetScore(seed=7, total=5, first_try=1, answered=3, solved_on_retry=1)


@pytest.mark.parametrize("lesson_key", LESSONS)
def test_every_lesson_set_is_well_formed_and_seeded(lesson_key):
    first = checkpoints.questions(lesson_key, 1)
    assert first == checkpoints.questions(lesson_key, 1)
    assert any(checkpoints.questions(lesson_key, seed) != first for seed in range(2, 12))
    for question in first:
        assert question.prompt and question.solution
        if question.kind == "predict":
            assert question.answer is None and len(question.options) >= 2
        elif question.options:
            assert question.answer in question.options
        else:
            assert checkpoints.parse_number(f"{question.answer}") is not None
            assert question.check(f"{question.answer}")
        if question.kind == "concept":
            assert set(question.feedback) == set(question.options) - {question.answer}, \
                "every wrong option of a concept question says why it is wrong"


@pytest.mark.parametrize("lesson_key", LESSONS)
def test_most_questions_test_concepts_and_one_predicts(lesson_key):
    """Issue 23: at least half of each lesson's questions are concept or predict-then-reveal, at least one predict."""
    for seed in (1, 2):
        kinds = [question.kind for question in checkpoints.questions(lesson_key, seed)]
        assert 2 * sum(kind in ("concept", "predict") for kind in kinds) >= len(kinds), kinds
        assert "predict" in kinds, kinds


# --- the checkpoint on the page (AppTest of the checkpoint alone: the lesson's widgets are tested elsewhere) ---

def checkpoint_page(lesson_key):
    from lessons.widgets import common

    common.checkpoint(lesson_key)


def open_checkpoint(lesson_key: str) -> AppTest:
    at = AppTest.from_function(checkpoint_page, args=(lesson_key,), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def wrong_answer(question: Question, lesson_key: str, number: int) -> str:
    """An answer a student could give that the question marks wrong."""
    if question.kind == "predict":
        from lessons.widgets import common

        revealed = common._revealed(lesson_key, 1, number).answer  # the page's own cached run: the model runs once
        return next(option for option in question.options if option != revealed)
    if question.options:
        return next(option for option in question.options if option != question.answer)
    wrong = f"{float(question.answer) * 3 + 7:g}"
    assert not question.check(wrong)
    return wrong


def answer(at: AppTest, lesson_key: str, number: int, question: Question, response: str, seed: int = 1) -> None:
    widget = f"{lesson_key}_a{number}_{seed}"
    if question.options:
        at.radio(key=widget).set_value(response)
    else:
        at.text_input(key=widget).input(response)
    submits = [b for b in at.button if b.label in ("Check", "Lock in my prediction")]
    submits[number - 1].click().run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("lesson_key", LESSONS)
def test_a_wrong_first_try_stays_wrong_on_every_lesson(lesson_key):
    """Issue 23: a wrong first answer followed by the worked solution's answer scores 0 for that question;
    the worked solution is hidden until a first attempt; the progress file holds the first-try score."""
    questions = checkpoints.questions(lesson_key, 1)
    at = open_checkpoint(lesson_key)
    assert not [e for e in at.expander if e.label == "Worked solution"]
    shown = " ".join(m.value for m in at.markdown)
    for question in questions:
        assert question.solution not in shown
    retried = 0
    for number, question in enumerate(questions, start=1):
        answer(at, lesson_key, number, question, wrong_answer(question, lesson_key, number))
        assert len([e for e in at.expander if e.label == "Worked solution"]) == number
        if question.kind == "predict":
            lock = [b for b in at.button if b.label == "Lock in my prediction"]
            assert all(b.disabled for b in lock)  # one prediction, locked in
        else:
            answer(at, lesson_key, number, question, f"{question.answer}")  # the answer the solution shows
            retried += 1
    assert len([s for s in at.success if "correct on the second try" in s.value]) == retried
    assert not [s for s in at.success if s.value == "Correct."]
    entry = progress.loads(progress.dumps(at.session_state["progress"]).encode())[lesson_key]
    assert entry["first_try"] == 0 and entry["total"] == len(questions) and entry["seed"] == 1
    assert entry["practice"]["solved_on_retry"] == retried
    bar = at.get("progress")[-1]
    assert bar.proto.text.startswith(f"First-try score: 0/{len(questions)}")


REVEALS = []


def demo_questions(lesson_key, seed):
    def reveal():
        REVEALS.append(seed)
        return Reveal("it → cat", "Head 3 gives **cat** 0.41.", pd.DataFrame({"token": ["cat", "mat"], "weight": [0.41, 0.2]}))

    return [
        Question("Which activation?", "GELU", "BERT's config says `gelu`.", options=("ReLU", "GELU"), kind="concept",
                 feedback={"ReLU": "the original Transformer used ReLU; BERT's config names gelu"}),
        Question("Where does *it* look?", None, "Count the weights.", options=("it → cat", "it → mat"),
                 kind="predict", reveal=reveal, feedback={"it → mat": "the mat is not what sat"}),
        Question("2 + 2?", 4, "2 + 2 = **4**."),
    ]


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.setattr(checkpoints, "questions", demo_questions)
    REVEALS.clear()
    return open_checkpoint("demo")


def test_predict_then_reveal_shows_the_prediction_beside_the_model(demo):
    assert [b.label for b in demo.button][:3] == ["Check", "Lock in my prediction", "Check"]
    assert not REVEALS  # the model runs only once the student has committed
    demo.button[1].click().run()  # nothing picked: not counted
    assert demo.warning[0].value == "Pick your prediction first." and not REVEALS
    answer(demo, "demo", 2, demo_questions("demo", 1)[1], "it → mat")
    assert REVEALS == [1]
    shown = [m.value for m in demo.markdown]
    assert "**Your prediction**  \nit → mat" in shown and "**What the model did**  \nit → cat" in shown
    assert "Head 3 gives **cat** 0.41." in shown
    assert demo.dataframe[0].value["token"].tolist() == ["cat", "mat"]
    assert demo.error[0].value == "Not this time: the mat is not what sat."
    assert demo.button[1].disabled
    locked = demo.radio(key="demo_a2_1_locked")
    assert locked.disabled and locked.value == "it → mat"
    demo.run()
    assert REVEALS == [1]  # shown again from the session, not rerun
    assert demo.session_state["progress"]["demo"]["first_try"] == 0


def test_wrong_option_feedback_and_the_third_try(demo):
    question = demo_questions("demo", 1)[0]
    answer(demo, "demo", 1, question, "ReLU")
    assert demo.error[0].value.startswith("Not quite: the original Transformer used ReLU; BERT's config names gelu.")
    assert [e.label for e in demo.expander] == ["Worked solution"] and demo.expander[0].proto.expanded
    answer(demo, "demo", 1, question, "ReLU")
    answer(demo, "demo", 1, question, "GELU")
    assert "correct on the third try" in demo.success[0].value
    answer(demo, "demo", 3, demo_questions("demo", 1)[2], "four")  # not a number: not counted as a try
    assert demo.warning[0].value.startswith("Type a number")
    answer(demo, "demo", 3, demo_questions("demo", 1)[2], "4")
    assert demo.success[-1].value == "Correct."
    assert demo.session_state["progress"]["demo"] == progress.record(1, 3, 1, solved_on_retry=1)
    assert demo.get("progress")[-1].proto.text == "First-try score: 1/3 · practice: 1 solved on a retry"


def test_a_new_set_is_practice(demo):
    answer(demo, "demo", 3, demo_questions("demo", 1)[2], "5")
    next(b for b in demo.button if b.label == "New questions").click().run()
    seed = demo.session_state["demo_quiz_seed"]
    answer(demo, "demo", 3, demo_questions("demo", seed)[2], "4", seed)
    assert demo.session_state["progress"]["demo"] == progress.record(0, 3, 1, more_sets=1, more_sets_first_try=1,
                                                                     more_sets_total=3)


def test_a_model_that_cannot_run_counts_nothing(monkeypatch):
    def broken(lesson_key, seed):
        def reveal():
            raise OSError("no weights on this machine")
        return [Question("?", None, "…", options=("a", "b"), kind="predict", reveal=reveal)] + \
            demo_questions(lesson_key, seed)[::2]

    monkeypatch.setattr(checkpoints, "questions", broken)
    at = open_checkpoint("broken")
    answer(at, "broken", 1, broken("broken", 1)[0], "a")
    assert "could not run here (OSError: no weights on this machine)" in at.warning[0].value
    assert not at.button[0].disabled and "progress" not in at.session_state
