# One verb per habit. `make run` and `make test` work on a fresh Debian 12 machine.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
LISTEN ?= 127.0.0.1:8008
DATA ?= var
FUZZ_SECONDS ?= 60

.PHONY: run test build deps web format lint asan asan-ci tsan fuzz bench soak e2e unit integration interop clean

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	$(MAKE) --no-print-directory web

# The web client: typecheck, bundle, precompress (served by the binary from web/dist).
web:
	@cd web && npm run --silent build

run: build
	build/ruche serve --listen $(LISTEN) --data $(DATA)

test: build lint
	@scripts/run-tests.sh all

unit: build
	@scripts/run-tests.sh unit
integration: build
	@scripts/run-tests.sh integration
interop: build
	@scripts/run-tests.sh interop
e2e: build
	@scripts/run-tests.sh e2e

CLANG_FORMAT ?= clang-format-16

format:
	@git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' | xargs $(CLANG_FORMAT) -i

lint: deps
	@git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' | xargs $(CLANG_FORMAT) --dry-run --Werror
	@cd web && npm run --silent typecheck

# ThreadSanitizer over the unit tests of the modules that run threads: store/ (writer thread,
# read pool, group commit), auth/ (session cache), matrix/ (notifier, claims, E2EE gates), net/.
# rtc/ joins when it exists.
TSAN_TESTS = ruche_store_test ruche_auth_test ruche_matrix_test ruche_net_test ruche_rtc_test
tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS) --target $(TSAN_TESTS)
	for t in $(TSAN_TESTS); do \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	    $$(find build-tsan/src -name $$t -type f -perm -u+x) || exit 1; done

asan: asan-ci
	RUCHE_BIN=build-asan/ruche scripts/run-tests.sh interop

# What CI runs under ASan + UBSan: unit tests, fuzz corpora and the integration suite (crash
# safety and the authorization matrix included). Trimmed: interop (the same server paths through
# real clients) and the browser tests, which add minutes and no new server code.
# The same build carries the libFuzzer targets: each then runs CI_FUZZ_SECONDS from its corpus.
CI_FUZZ_SECONDS ?= 5
asan-ci: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure --timeout 900
	RUCHE_BIN=build-asan/ruche scripts/run-tests.sh integration
	scripts/run-fuzzers.sh build-asan $(CI_FUZZ_SECONDS)

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	@scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

# 1,000 clients syncing and sending for 10 minutes (SOAK_S, CLIENTS, RATE…: see bench/soak.sh).
soak: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bench/soak.sh build-release/ruche

bench: deps
	@scripts/install-deps.sh --bench
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	$(MAKE) --no-print-directory web
	bench/http_vs_nginx.sh build-release/ruche
	bench/fanout.sh build-release/ruche
	bench/caldav_report.py build-release/ruche
	bench/sfu_side_by_side.sh build-release/ruche

clean:
	rm -rf build build-release build-asan build-fuzz web/dist
