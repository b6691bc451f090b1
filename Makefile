# FER2013 dashboard: `make run` starts the app, `make test` runs the whole test suite.
# Both create .venv on first use and re-install requirements only when a requirements file changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        ?= .venv
BIN         := $(VENV)/bin
# Python 3.11 if present (the tested version), else the system python3.
PYTHON      ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
FER2013_DIR ?= ../shared/fer2013
FER2013_CSV ?= $(dir $(FER2013_DIR))fer2013-csv/fer2013.csv.gz
TRAIN_ARGS  ?=
# Self-signed certificate for `make run-https` (git-ignored; made by serve/certs.py).
CERT_DIR    ?= .certs

# The browser tests drive Debian's Chromium (apt package `chromium`); Playwright never downloads one.
CHROMIUM_PATH ?= $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser) /usr/bin/chromium)
export CHROMIUM_PATH
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

RUN_STAMP  := $(VENV)/.requirements.stamp
TEST_STAMP := $(VENV)/.requirements-dev.stamp

.PHONY: help run run-https replicas load-live test check lock lint bench bench-detection train train-v3 train-v4 screenshots

help:
	@echo "make run          start the dashboard on http://localhost:8501"
	@echo "make run-https    the same over HTTPS (self-signed, made in $(CERT_DIR)/): webcam from other devices"
	@echo "make replicas     N=2 Streamlit replicas behind nginx on http://localhost:8500 (PORT=8500; needs nginx)"
	@echo "make load-live    VIEWERS=3 fake-camera viewers on the Live page: FPS, server CPU/RSS, per-stage cost, churn"
	@echo "make test         run the whole test suite (pytest, browser tests included)"
	@echo "make check        the fast suite: no browser, no slow tests (< 2 min)"
	@echo "make lock         re-pin constraints.txt to what .venv has"
	@echo "make lint         ruff check"
	@echo "make bench        inference latency benchmark (python -m fer bench)"
	@echo "make bench-detection  detection recall by face and frame size, false boxes, ms per frame (~6 min)"
	@echo "make train        train models/fer_cnn_v2 on FER2013_DIR=$(FER2013_DIR) (recipe cpu2, ~90 min on 2 idle cores)"
	@echo "make train-v3     train models/fer_cnn_v3 (recipe cpu3) on FER2013_CSV=$(FER2013_CSV) (hours; TRAIN_ARGS=--resume)"
	@echo "make train-v4     fine-tune v3 into models/fer_cnn_v4 (recipe cpu4) on both FER2013 forms"
	@echo "make screenshots  regenerate the README screenshots"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt pins the exact versions the suite passed on (regenerate with `make lock`).
$(RUN_STAMP): requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.txt -c constraints.txt
	touch $@

$(TEST_STAMP): requirements.txt requirements-dev.txt requirements-scale.txt constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(RUN_STAMP)
	$(BIN)/streamlit run app.py

# Browsers allow the camera only over HTTPS or on localhost: serve HTTPS so phones and other computers
# on the network can use their webcam (open https://THIS-COMPUTER-IP:8501, accept the warning once).
run-https: $(RUN_STAMP)
	$(BIN)/python -m serve.certs --out $(CERT_DIR) >/dev/null
	$(BIN)/streamlit run app.py --server.sslCertFile $(CERT_DIR)/cert.pem --server.sslKeyFile $(CERT_DIR)/key.pem

# Several replicas behind nginx with sticky sessions (serve/replicas.py; README "Several viewers").
# The proxy listens on PORT, the replicas on PORT+1 ... PORT+N; Ctrl-C stops them all. HTTPS=1: the proxy
# serves HTTPS on all interfaces (self-signed, as `make run-https`) so other devices get their camera.
replicas: $(RUN_STAMP)
	$(BIN)/python -m serve.replicas --replicas $(or $(N),2) --port $(or $(PORT),8500) $(if $(HTTPS),--https)

# Load test of the Live page before choosing a server size (scripts/load_live.py; README "How many viewers"):
# VIEWERS fake-camera viewers for SECONDS against SERVERS processes, then CHURN open/stream/close cycles and
# the server's RSS, threads and fds 60 s after the last close. LOAD_ARGS passes more (e.g. --soak 600).
load-live: $(TEST_STAMP)
	@ip -4 -o addr show | grep -qv ' 127.0.0.1/' || ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
	$(BIN)/python -m scripts.load_live --viewers $(or $(VIEWERS),3) --seconds $(or $(SECONDS),30) \
		--servers $(or $(SERVERS),1) --churn $(or $(CHURN),10) $(LOAD_ARGS)

test: $(TEST_STAMP)
	@# The webcam browser tests need an IPv4 address besides 127.0.0.1 (WebRTC host candidate; needs root).
	@ip -4 -o addr show | grep -qv ' 127.0.0.1/' || ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast loop while developing: no browser, nothing marked slow (under 2 minutes).
check: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not browser and not slow" $(PYTEST_ARGS)

lock: $(TEST_STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '@ file' > constraints.txt

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

bench: $(RUN_STAMP)
	$(BIN)/python -m fer bench

# Issue 20's table: today's detector beside issue 12's on real faces pasted at known sizes (README "Face detection").
bench-detection: $(TEST_STAMP)
	$(BIN)/python -m scripts.measure_detection --recall --fer2013 $(FER2013_DIR)

train: $(RUN_STAMP)
	$(BIN)/python -m fer.train --data $(FER2013_DIR) --out models/fer_cnn_v2 --recipe cpu2 --precision mixed_bfloat16 $(TRAIN_ARGS)

# Model v3 (recipe cpu3, in training): the original CSV pixels, FER+ votes from ferplus.csv beside FER2013_DIR.
# TRAIN_ARGS=--resume continues from models/fer_cnn_v3.ckpt/ (committed while the run spans sessions).
train-v3: $(RUN_STAMP)
	$(BIN)/python -m fer.train --data $(FER2013_CSV) --out models/fer_cnn_v3 --recipe cpu3 --precision mixed_bfloat16 $(TRAIN_ARGS)

# Model v4 (recipe cpu4): a fine-tune of models/fer_cnn_v3 on both pixel forms of every face (the CSV and the
# image folders), with FER+ votes and v3's own output in the targets (docs/models.md). About 30 min on 2 cores.
train-v4: $(RUN_STAMP)
	$(BIN)/python -m fer.train --data $(FER2013_CSV) --data $(FER2013_DIR) --out models/fer_cnn_v4 --recipe cpu4 --precision mixed_bfloat16 $(TRAIN_ARGS)

screenshots: $(TEST_STAMP)
	$(BIN)/python -m scripts.screenshots
	@# The live page's shot comes from its browser test (a real stream): copied here, never by the test.
	@if [ -f test-artifacts/live.png ]; then cp test-artifacts/live.png docs/screenshots/live.png; fi
