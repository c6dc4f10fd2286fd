# The two commands of the README: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.DEFAULT_GOAL := run

export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export TOKENIZERS_PARALLELISM := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/assistant.tar.gz
# what the trained model depends on (the knowledge base's answers are read at run time; its
# questions teach the NLU what a shop question looks like)
TRAINING_INPUTS := config.yml domain.yml $(shell find data/nlu data/lexicon data/kb data/sentiment data/rules.yml data/stories.yml vietcx/nlu vietcx/normalize.py vietcx/embeddings.py vietcx/embedding_build.py vietcx/kb/loader.py vietcx/dialogue -type f -not -name '*.pyc' 2>/dev/null)

.PHONY: run cluster test setup train lint validate story-test unit e2e bench

setup:
	@scripts/setup.sh

$(MODEL): $(TRAINING_INPUTS) | setup
	$(RASA) train --fixed-model-name assistant --out models

train: setup $(MODEL)

run: train
	@scripts/run.sh

# the scaled-out deployment on this machine: PostgreSQL, Redis, nginx, 2 Rasa + 2 action servers
cluster: train
	@scripts/setup-cluster.sh
	@$(PY) -m vietcx.cluster

lint: setup
	$(VENV)/bin/ruff check .

validate: setup
	$(RASA) data validate --domain domain.yml --data data

story-test: train
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/stories

test: setup train lint validate story-test
	@scripts/setup-test.sh
	$(PY) -m pytest tests

bench: train
	$(PY) bench/nlu_eval.py
	$(PY) bench/faq_eval.py
	$(PY) bench/sentiment_eval.py
	$(PY) bench/export_bench.py
	$(PY) bench/channels_bench.py
	$(PY) bench/load_test.py --customers 16
	$(PY) bench/profile_message.py
	$(PY) bench/dialogue_eval.py
	$(PY) bench/dialogue_eval.py --data bench/data/dialogues_heldout_2.yml
	$(PY) bench/dialogue_eval.py --data bench/data/dialogues_heldout_3.yml
