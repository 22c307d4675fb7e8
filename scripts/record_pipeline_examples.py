"""Record a real run of each pipelines-lesson task that needs the HuggingFace Hub (its model
on the lesson's default input), so a machine without the Hub can show how the output looks,
marked as recorded. Run it where the Hub answers:

    PYTHONPATH=. .venv/bin/python scripts/record_pipeline_examples.py

It writes assets/lessons/pipelines/recorded/<task>.json; nothing is written for a task whose
model cannot be loaded.
"""
import datetime
import json

import transformers

from lessons.widgets.pipelines import DEFAULT_TEXT, QA_CONTEXT
from lib import hub, model_loading, pipelines


def run(task: pipelines.Task, loaded) -> tuple[object, object]:
    if task.key == "question-answering":
        question = "What is BERT?"
        return {"question": question, "context": QA_CONTEXT}, pipelines.answer_question(loaded, question, QA_CONTEXT)
    text = DEFAULT_TEXT[task.key]
    if task.key == "translation_en_to_fr":
        return text, pipelines.translate(loaded, text)
    output = pipelines.hub_pipeline(task.key, loaded)(text, aggregation_strategy="simple")
    return text, [{k: (float(v) if k == "score" else v) for k, v in row.items()} for row in output]


def main() -> None:
    if not hub.hub_reachable():
        raise SystemExit("The HuggingFace Hub is not reachable from here: nothing recorded.")
    pipelines.RECORDED_DIR.mkdir(parents=True, exist_ok=True)
    for task in (t for t in pipelines.TASKS if not t.offline):
        loaded = model_loading.load(task.model_key, role=pipelines.HUB_ROLES[task.key], device="cpu")
        if loaded.notice:  # fell back to an offline model: not a recording of this task's model
            print(f"{task.key}: skipped ({loaded.notice})")
            continue
        given, output = run(task, loaded)
        record = {"task": task.key, "model": loaded.spec.location, "input": given, "output": output,
                  "transformers": transformers.__version__, "recorded": datetime.date.today().isoformat()}
        path = pipelines.RECORDED_DIR / f"{task.key}.json"
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{task.key}: {path}")


if __name__ == "__main__":
    main()
