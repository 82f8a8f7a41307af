# The two commands a newcomer runs: `make demo` and `make test`.
PY := .venv/bin/python

.PHONY: setup demo test bench

setup:
	bash deploy/bootstrap.sh

demo: setup
	$(PY) -m kiosk.cli demo

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) -m bench
