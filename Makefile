.PHONY: quickstart test setup bench

PYTEST_ARGS ?=

quickstart:  ## set up and run the quickstart example (no API key, no server)
	scripts/quickstart.sh

test:  ## set up everything (system packages, images, services, venv) and run all tests with pytest
	scripts/test.sh $(PYTEST_ARGS)

setup:
	scripts/setup.sh

bench:
	DARWIN_EXTRAS=all,dev scripts/setup.sh
	for b in benchmarks/bench_*.py; do .venv/bin/python $$b || exit 1; done
