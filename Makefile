# leanpoint: build, run, test, bench. Every target works on a fresh machine of this kind.
SHELL := /bin/bash
CARGO ?= cargo
LEAN_URL ?= http://127.0.0.1:5052
PORT ?= 5555

.PHONY: all build release run run-lean test alerts lint fmt bench soak scale fuzz clean screenshot

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# The demo: a simulated devnet (lean-devnet: 7 nodes on ports 5052-5058, 3 healthy, a
# liar, a lagging one, a flapping one, a silent one) and leanpoint on 127.0.0.1:$(PORT)
# polling it; the dashboard's chart shows the lagging and minority ones. Ctrl-C stops both.
run: release
	PORT=$(PORT) ./scripts/run-demo.sh

# Runs leanpoint on 127.0.0.1:$(PORT) against one real lean node at $(LEAN_URL).
run-lean: release
	./target/release/leanpoint --bind 127.0.0.1 --port $(PORT) --lean-url $(LEAN_URL)

# Every test: unit, integration (real loopback sockets, one process per test), doc tests.
# The load tests (soak, scale, shared 16 MiB states, the incident replay, fairness, slow
# readers of a 16 MiB static file, floods) run after the others, one at a time, so their
# load does not skew other tests' timings.
HEAVY := binary(soak) | binary(scale) | binary(bundle_load) | binary(incident) | binary(server_fairness) | binary(static_load) | binary(server_admission)
test: alerts
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked
	$(CARGO) test --doc
	$(CARGO) nextest run -E 'not ($(HEAVY))'
	$(CARGO) nextest run -E '$(HEAVY)' --test-threads 1

# The Prometheus alerting rules (deploy/alerts.yml) and their unit tests. promtool comes
# from Debian's `prometheus` package (apt-get install -y prometheus). Without it the check
# is skipped with a note, except under CI (CI set), where that fails.
alerts:
	@if command -v promtool >/dev/null 2>&1; then \
		promtool check rules deploy/alerts.yml && promtool test rules deploy/alerts_test.yml; \
	elif [ -n "$$CI" ] && [ "$$CI" != 0 ] && [ "$$CI" != false ]; then \
		echo "promtool is required under CI: apt-get install -y prometheus"; exit 1; \
	else \
		echo "note: promtool not found, skipping the alert rule tests (apt-get install -y prometheus)"; \
	fi

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

bench:
	$(CARGO) bench

# The soak test for SOAK_SECS (default 10 minutes); CI runs it for 45 s in `make test`.
SOAK_SECS ?= 600
soak:
	SOAK_SECS=$(SOAK_SECS) $(CARGO) nextest run --profile soak --release --test soak --no-capture

# 1000 simulated upstreams under nofile 256, release build, figures printed.
scale:
	$(CARGO) nextest run --release --test scale --no-capture

# Coverage-guided fuzzing of the pure parsers (fuzz/, see docs/fuzzing.md): every target
# for FUZZ_SECONDS each, one after the other. cargo-fuzz needs nightly flags: stable rustc
# accepts them with RUSTC_BOOTSTRAP=1. Corpora grow in fuzz/corpus/<target> (not in git),
# crashes land in fuzz/artifacts/<target>; the make fails if any target found one. Built
# optimised with debug assertions and overflow checks (-O -a) and AddressSanitizer.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= response_reader chunked request ssz_state lstar_roots lean_json config
FUZZ_MAX_LEN ?= 16384
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@failed=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O -a $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -print_final_stats=1 \
			|| failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (see fuzz/artifacts/)"; exit 1; fi

clean:
	$(CARGO) clean

# Refreshes docs/dashboard.png (1280x1400): the finality-chart browser test (tests/browser/
# timeline.rs: lean-devnet with healthy, lagging and flapping nodes) takes the screenshot
# and, with UPDATE_DASHBOARD_PNG=1, copies it there. Needs chromium in PATH.
screenshot:
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked
	UPDATE_DASHBOARD_PNG=1 CI=true $(CARGO) nextest run --test browser -E 'test(finality_chart)' --no-capture

# Benchmarks (scripts/bench/, figures and machine in docs/benchmarks.md). Each is bounded
# and kills what it starts. bench-http needs wrk and nginx (apt-get install -y wrk nginx);
# bench-idle uses perf and strace when present (apt-get install -y strace).
.PHONY: bench-http bench-rss bench-size bench-idle bench-pure bench-bundle

# /status throughput and latency, leanpoint vs nginx (one worker), wrk -t1 -c64 -d10s.
bench-http: release
	scripts/bench/http.sh

# VmRSS: idle with 1 upstream, 16 upstreams with a 16 MiB state, 32 slow downloads.
bench-rss: release
	scripts/bench/rss.sh

# Size of the stripped release binary (target < 2 MiB).
bench-size: release
	scripts/bench/size.sh

# Idle CPU% and wake-ups/s with 16 upstreams and --poll-ms 10000.
bench-idle: release
	scripts/bench/idle.sh

# Criterion medians of the pure modules, one bench at a time.
bench-pure:
	scripts/bench/criterion.sh

# What the verified bundle costs, release build, figures printed: bytes fetched per
# upstream per round in steady state and per finalization advance (16 MiB states), peak
# RSS with 16 upstreams serving distinct 16 MiB states, and the simulation tier's rounds.
bench-bundle:
	$(CARGO) nextest run --release --test bundle_load --test schedule_sim --no-capture --test-threads 1
