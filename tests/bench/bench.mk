# make bench: every benchmark (docs/benchmarks.md). Prints a table, writes $(BUILD)/bench.json
# and $(BUILD)/bench-apply.png. Root only (network namespaces), ~10 minutes.
# Included from the Makefile: -include tests/bench/bench.mk
# BENCH_ONLY=data,dhcp,... runs some sections; see tests/bench/bench.py for the other knobs.
.PHONY: bench bench-deps
bench-deps:
	@tests/bench/deps.sh

bench: deps bench-deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) /usr/bin/python3 tests/bench/bench.py
