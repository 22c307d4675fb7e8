# Glassbox: `make run` starts the app, `make test` runs the linter and the whole suite.
# Both set up .venv first: once, and again only when a requirements file changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.glassbox-ready
# The SmolLM2 folder converted once from the bundled GGUF (lib/smollm2_conversion.py); `make clean` redoes it.
SMOLLM2 := .cache/glassbox/smollm2-135m-instruct/model.safetensors
# The offline sentiment model: MiniLM fine-tuned once on the bundled reviews (lib/minilm_sentiment.py, about a minute).
SENTIMENT := .cache/glassbox/minilm-reviews-sentiment/model.safetensors
PORT ?= 8501
BENCH ?= startup
ARGS ?=
REPLICAS ?=

.PHONY: setup run serve test test-fast lint bench clean

setup: $(STAMP) $(SMOLLM2) $(SENTIMENT)

# The steps are deploy/install.sh's, which deploy/Dockerfile also runs. requirements.txt is
# installed without its PyTorch index line: where only PyPI is reachable, pip retries that index
# about 8 s for every package. torch==2.13.0 then comes from PyPI or a local wheel (README "Deploy").
$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt deploy/install.sh
	PYTHON=$(PYTHON) VENV=$(VENV) deploy/install.sh packages
	touch $(STAMP)

$(SMOLLM2): | $(STAMP)
	VENV=$(VENV) deploy/install.sh smollm2

$(SENTIMENT): lib/minilm_sentiment.py assets/reviews/reviews.csv | $(STAMP)
	VENV=$(VENV) deploy/install.sh sentiment

run: setup
	HF_HUB_DISABLE_TELEMETRY=1 $(VENV)/bin/streamlit run streamlit_app.py --server.port $(PORT)

# A school: REPLICAS Streamlit processes (default one per core) behind HAProxy on PORT, stats
# page on PORT+100; Ctrl-C stops them all (deploy/serve.py, README "Deploy for a school").
# ARGS passes its other options: ARGS="--bind 127.0.0.1 --backend-port 9000".
serve: setup
	$(PY) deploy/serve.py --port $(PORT) $(if $(REPLICAS),--replicas $(REPLICAS)) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Two worker processes, one per core of the CI machine; a test file stays on one worker, so its
# module fixtures (trained models, AppTests) are built once.
TEST_WORKERS ?= 2

test: setup lint
	HF_HUB_DISABLE_TELEMETRY=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: setup lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow and not browser"

# One benchmark at a time: `make bench` is benchmarks/startup.py, `make bench BENCH=cnn` is
# benchmarks/cnn.py, `make bench BENCH=finetuning ARGS=tiny_gpt` passes arguments (README "Benchmarks").
bench: setup
	PYTHONPATH=. $(PY) benchmarks/$(BENCH).py $(ARGS)

clean:
	rm -rf $(VENV) .cache
