# synack: the two commands of the README, and the checks CI runs.
#
#   make demo       install what is missing, build, run examples/handshake.lua
#   make test       install what is missing, build, run every test
#   make sanitize   the C tests and the specs under ASan + UBSan
#   make bench      the benchmarks (QUICK=1 for a short run)
#   make fuzz       libFuzzer on each target for FUZZ_TIME seconds (60)
#   make rock       install the rock from this checkout with luarocks
#   make format     clang-format the C sources (format-check: only look)

BUILD    ?= build
ASAN_BUILD ?= build-asan
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
WERROR   ?= OFF
LUA      ?= lua5.4
CMAKE_FLAGS ?=

# Debian packages a fresh machine needs.
PACKAGES := lua5.4 liblua5.4-dev libuv1-dev lua-busted luarocks cmake build-essential
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Run from the checkout: the Lua files in lua/, the C module in $(BUILD)/.
RUN_ENV = LUA_PATH="$(CURDIR)/lua/?.lua;;" LUA_CPATH="$(CURDIR)/$(BUILD)/?.so;;"

.PHONY: all deps build demo test ctest spec sanitize bench fuzz fuzz-seeds snippets rock format format-check clean

all: build

# Installs only what is missing; `apt-get update` once, and only then.
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DSYNACK_WERROR=$(WERROR) $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(RUN_ENV) $(LUA) examples/handshake.lua

ctest: build
	cd $(BUILD) && ctest --output-on-failure

spec: build
	busted --cpath="$(BUILD)/?.so"

test: ctest spec

sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DSYNACK_SANITIZE=ON -DSYNACK_WERROR=$(WERROR) \
	  -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -LE slow
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  busted --cpath="$(ASAN_BUILD)/?.so"

# Benchmarks: a release build (-O2, no sanitizers) of their own, synack
# side by side with lwIP and the kernel measured in the same run
# (bench/run.lua; the table on stdout, bench/out/latest.json).  QUICK=1
# runs a reduced version of every row.
BENCH_BUILD ?= build-bench
QUICK ?=
BENCH_PACKAGES := liblwip-dev iperf3
bench: deps
	@missing=""; for p in $(BENCH_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing || true; fi
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DSYNACK_BENCH=ON -DSYNACK_TESTS=OFF
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	$(LUA) bench/run.lua $(CURDIR)/$(BENCH_BUILD) $(if $(QUICK),quick)

# Fuzzing: clang-14 with libFuzzer, ASan and UBSan.  New inputs go to
# $(FUZZ_BUILD)/corpus-*; the seeds in fuzz/corpus are read, not written.
# A crash leaves crash-* in $(FUZZ_BUILD): copy it to fuzz/regressions/.
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_TARGETS ?= wire stack
fuzz: deps
	@command -v clang-14 >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DSYNACK_FUZZ=ON -DSYNACK_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
	  echo "== fuzz_$$t for $(FUZZ_TIME) s"; \
	  (cd $(FUZZ_BUILD) && ./fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	    -max_len=4096 -timeout=10 corpus-$$t $(CURDIR)/fuzz/corpus/$$t) > $(FUZZ_BUILD)/fuzz_$$t.log 2>&1; \
	  rc=$$?; grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss)|ERROR|SUMMARY|Test unit written" \
	    $(FUZZ_BUILD)/fuzz_$$t.log; \
	  [ $$rc -eq 0 ] || { tail -60 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
	done

# Rewrites the outputs shown under the runnable snippets of the docs.
snippets: build
	LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/spec/?.lua;;" LUA_CPATH="$(CURDIR)/$(BUILD)/?.so;;" \
	  $(LUA) spec/fill_snippets.lua docs/tutorial.md README.md

# Regenerates the seed corpus from simulated exchanges (fuzz/seeds.lua).
fuzz-seeds: build
	$(RUN_ENV) $(LUA) fuzz/seeds.lua

rock: deps
	luarocks --lua-version=5.4 make rockspec/synack-scm-1.rockspec

format:
	clang-format -i csrc/*.h csrc/*/*.c csrc/*/*.h fuzz/*.c bench/*.c

format-check:
	clang-format --dry-run -Werror csrc/*.h csrc/*/*.c csrc/*/*.h fuzz/*.c bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD) build.luarocks
