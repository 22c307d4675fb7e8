"""Checks every lesson's checkpoint tests share: the mix of question kinds, the
feedback on every wrong option, and finding a set's predict question."""
from lib.checkpoints import Question


def assert_well_taught(questions: list[Question]) -> None:
    """3-5 questions, at least half of them concept questions, at least one
    predict-then-reveal; every concept question's wrong options explained."""
    kinds = [q.kind for q in questions]
    assert 3 <= len(questions) <= 5
    assert kinds.count("concept") * 2 >= len(questions), kinds
    assert kinds.count("predict") >= 1, kinds
    assert set(kinds) <= {"concept", "arithmetic", "predict"}
    for question in questions:
        assert question.prompt and question.solution
        if question.kind == "concept":
            assert question.answer in question.options and len(set(question.options)) == len(question.options) >= 2
            wrong = set(question.options) - {question.answer}
            assert set(question.feedback) == wrong and all(question.feedback.values()), question.prompt
        elif question.kind == "predict":
            assert question.answer is None and callable(question.reveal) and len(question.options) >= 2
        else:
            assert question.reveal is None and not question.feedback


def the_predict_question(questions: list[Question]) -> Question:
    return next(q for q in questions if q.kind == "predict")


def predict_on_page(at, lesson_key: str, questions: list[Question], seed: int = 1) -> tuple[str, str]:
    """On a lesson page opened in AppTest (question set `seed`), lock in a
    prediction for the predict question, let the page run the model, and return
    (the prediction, the answer the page shows as what the model did)."""
    number, question = next((n, q) for n, q in enumerate(questions, start=1) if q.kind == "predict")
    prediction = question.options[-1]
    at.radio(key=f"{lesson_key}_a{number}_{seed}").set_value(prediction)
    lock = [b for b in at.button if b.label == "Lock in my prediction"]
    assert len(lock) == 1 and not lock[0].disabled
    lock[0].click().run(timeout=120)
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown]
    assert f"**Your prediction**  \n{prediction}" in shown
    (revealed,) = [m.split("  \n", 1)[1] for m in shown if m.startswith("**What the model did**  \n")]
    assert [b.disabled for b in at.button if b.label == "Lock in my prediction"] == [True]
    return prediction, revealed
