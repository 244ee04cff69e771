# leanpoint: build, run, test, bench. Every target works on a fresh machine of this kind.
SHELL := /bin/bash
CARGO ?= cargo
LEAN_URL ?= http://127.0.0.1:5052
PORT ?= 5555

.PHONY: all build release run test test-unit lint fmt bench soak fuzz clean

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Runs leanpoint on 127.0.0.1:$(PORT) against one lean node at $(LEAN_URL).
run: release
	./target/release/leanpoint --bind 127.0.0.1 --port $(PORT) --lean-url $(LEAN_URL)

# Every test: unit, integration (real loopback sockets, one process per test), doc tests.
test:
	@command -v cargo-nextest >/dev/null 2>&1 || $(CARGO) install cargo-nextest --locked
	$(CARGO) nextest run --no-fail-fast
	$(CARGO) test --doc

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

bench:
	$(CARGO) bench

# Coverage-guided fuzzing of the pure parsers (fuzz/, see docs/fuzzing.md): every target
# for FUZZ_SECONDS each, one after the other. cargo-fuzz needs nightly flags: stable rustc
# accepts them with RUSTC_BOOTSTRAP=1. Corpora grow in fuzz/corpus/<target> (not in git),
# crashes land in fuzz/artifacts/<target>; the make fails if any target found one. Built
# optimised with debug assertions and overflow checks (-O -a) and AddressSanitizer.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= response_reader chunked request ssz_state lean_json config
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
