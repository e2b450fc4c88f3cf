# Hearth: one non-recursive Makefile. Objects go to $(BUILD)/ (out of tree);
# -MMD keeps header dependencies exact; `make -j2` is safe.
SHELL := /bin/bash
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
# ccache, where installed, spares rebuilding what did not change (worktrees too).
CCACHE := $(shell command -v ccache 2>/dev/null)
CXX := $(if $(CCACHE),ccache g++,g++)
export CCACHE_BASEDIR := $(CURDIR)/..
export CCACHE_NOHASHDIR := true
SAN ?=

CXXFLAGS := -std=c++20 -O2 -g -Wall -Wextra -Werror -Wno-psabi -I. -MMD -MP
ifeq ($(SAN),1)
CXXFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# Recursive (=) so that they are read after `make deps` installed Open MPI.
MPI_CFLAGS = -DOMPI_SKIP_MPICXX=1 $(patsubst -I%,-isystem %,$(shell mpicxx --showme:compile 2>/dev/null))
MPI_LIBS = $(shell mpicxx --showme:link 2>/dev/null)
HWLOC_LIBS = -lhwloc
# What core/ and plugins/ need: SQLite (ledger), PAPI (energy/papi).
CORE_LIBS = -lsqlite3 -lpapi -lcurl -lcrypto

CORE_SRC := $(wildcard core/*.cpp) $(wildcard plugins/*/*.cpp)
RUNNER_SRC := $(wildcard runner/*/*.cpp)
AGENT_SRC := $(wildcard grid-agent/*.cpp)
UNIT_SRC := $(wildcard tests/unit/*.cpp)
# Unit tests of the programs' own code (runner/, grid-agent/): a binary of their own.
PROGRAM_SRC := $(wildcard tests/program/*.cpp)
INTEG_SRC := $(wildcard tests/integration/*.cpp)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_CXX_SRC := $(wildcard bench/*.cpp)

obj = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(1))
CORE_OBJ := $(call obj,$(CORE_SRC))
RUNNER_OBJ := $(call obj,$(RUNNER_SRC))
AGENT_OBJ := $(call obj,$(AGENT_SRC))
AGENT_LIB_OBJ := $(filter-out $(BUILD)/obj/grid-agent/main.o,$(AGENT_OBJ))
RUNNER_LIB_OBJ := $(filter-out $(BUILD)/obj/runner/cli/main.o,$(RUNNER_OBJ))
UNIT_OBJ := $(call obj,$(UNIT_SRC))
PROGRAM_OBJ := $(call obj,$(PROGRAM_SRC))
INTEG_OBJ := $(call obj,$(INTEG_SRC))

LIBCORE := $(BUILD)/lib/libhearth-core.a
HEARTH := $(BUILD)/bin/hearth
AGENT := $(if $(AGENT_SRC),$(BUILD)/bin/grid-agent)
UNIT := $(BUILD)/tests/unit_tests
PROGRAM_TESTS := $(BUILD)/tests/program_tests
INTEG := $(BUILD)/tests/integration_tests
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC)) $(patsubst bench/%.cpp,$(BUILD)/bench/%,$(BENCH_CXX_SRC))
# The dashboard's page, where grid-agent and hearth dashboard look for it:
# ../share/hearth/dashboard beside their executables.
DASHBOARD_SRC := $(wildcard grid-agent/dashboard/*.html grid-agent/dashboard/*.js grid-agent/dashboard/*.css)
DASHBOARD := $(patsubst grid-agent/dashboard/%,$(BUILD)/share/hearth/dashboard/%,$(DASHBOARD_SRC))
# The shipped job templates, where hearth looks for them: ../share/hearth/templates.
TEMPLATES_SRC := $(wildcard runner/templates/*.toml)
TEMPLATES := $(patsubst runner/templates/%,$(BUILD)/share/hearth/templates/%,$(TEMPLATES_SRC))

# The bank-quant example's programs (QuantLib), built with everything else.
include examples/risk-mc/build.mk
.DEFAULT_GOAL := all

.PHONY: fuzz fuzz-deps bench-soak bench-sched bench-sim all deps build test test-unit test-integration test-asan demo bench bench-agent install man clean format
all: $(HEARTH) $(AGENT) $(UNIT) $(PROGRAM_TESTS) $(INTEG) $(BENCH_BIN) $(RISK_MC_BIN) $(DASHBOARD) $(TEMPLATES)
build: all

deps:
	@tools/install-deps.sh

$(BUILD)/obj/runner/%.o: CXXFLAGS += $(MPI_CFLAGS)
# Debian's compiled cpp-httplib: the same defines as the library was built with.
HTTPLIB_CFLAGS := -DCPPHTTPLIB_OPENSSL_SUPPORT -DCPPHTTPLIB_ZLIB_SUPPORT -DCPPHTTPLIB_BROTLI_SUPPORT
HTTPLIB_LIBS := -lcpp-httplib -lssl -lcrypto
$(BUILD)/obj/grid-agent/%.o: CXXFLAGS += $(HTTPLIB_CFLAGS)
# hearth dashboard serves the same page with the same library.
$(BUILD)/obj/runner/%.o: CXXFLAGS += $(HTTPLIB_CFLAGS)
$(BUILD)/obj/tests/%.o: CXXFLAGS += -DBOOST_TEST_DYN_LINK $(MPI_CFLAGS) $(HTTPLIB_CFLAGS)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(HEARTH): $(RUNNER_OBJ) $(LIBCORE) | $(TEMPLATES)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(MPI_LIBS) $(HWLOC_LIBS) $(CORE_LIBS) $(HTTPLIB_LIBS) -lpthread

$(BUILD)/bin/grid-agent: $(AGENT_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) $(HTTPLIB_LIBS) -lpthread

# The unit tests link core/ and plugins/ only (and fakes): pure logic and
# its seams. cpp-httplib serves the HTTP fakes of tests/unit/test_heat_sources.
$(UNIT): $(UNIT_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ -lboost_unit_test_framework $(CORE_LIBS) $(HTTPLIB_LIBS) -lpthread

# The programs' own code under test (tests/program/main.cpp says what).
$(PROGRAM_TESTS): $(PROGRAM_OBJ) $(RUNNER_LIB_OBJ) $(AGENT_LIB_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ -lboost_unit_test_framework $(MPI_LIBS) $(HWLOC_LIBS) $(CORE_LIBS) $(HTTPLIB_LIBS) -lpthread

$(INTEG): $(INTEG_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ -lboost_unit_test_framework $(CORE_LIBS) $(HTTPLIB_LIBS) -lpthread

$(BUILD)/share/hearth/dashboard/%: grid-agent/dashboard/%
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/share/hearth/templates/%: runner/templates/%
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	gcc -O2 -Wall -Wextra -Werror -o $@ $<

# C++ benchmarks drive core/ in-process (bench/sched_dispatch.cpp).
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) -o $@ $^ $(CORE_LIBS) -lpthread

# The README's test command: installs what is missing, builds, runs every
# suite and ends with "N passed, N failed".
test: deps browser-deps
	@$(MAKE) --no-print-directory -j2 all
	@tests/run.sh $(BUILD) unit program integration

# The dashboard's browser test drives Debian's chromium with playwright-core,
# installed from the lockfile (npm's cache serves it offline once fetched).
.PHONY: browser-deps
browser-deps: tests/browser/node_modules/.package-lock.json
tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json tests/browser/package.json
	@if ! command -v npm >/dev/null; then echo "hearth: no npm here: the dashboard's browser test will be skipped" >&2; \
	elif npm ci --prefix tests/browser --prefer-offline --no-audit --no-fund --loglevel=error; then touch $@; \
	else echo "hearth: npm ci failed: the dashboard's browser test will be skipped" >&2; fi

test-unit: all
	@tests/run.sh $(BUILD) unit program

test-integration: all
	@tests/run.sh $(BUILD) integration

# ASan+UBSan build of the unit tests (CI runs it after `make test`).
test-asan: deps
	@$(MAKE) --no-print-directory -j2 BUILD=build-asan SAN=1 build-asan/tests/unit_tests build-asan/tests/program_tests
	@tests/run.sh build-asan unit program

# libFuzzer targets (tests/fuzz/README.md): clang-14 with ASan+UBSan, in their
# own object dir; each runs FUZZ_SECONDS on a scratch copy of its seed corpus.
FUZZ_BUILD := build-fuzz
FUZZ_CXX := clang++-14
FUZZ_SECONDS ?= 30
FUZZ_CXXFLAGS := -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -Wall -Wextra -Werror -I. -MMD -MP
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.cpp)
FUZZ_BIN := $(patsubst tests/fuzz/%.cpp,$(FUZZ_BUILD)/bin/%,$(FUZZ_SRC))
# The parsers the targets drive and what they call (an archive: each target
# links only the objects it needs).
FUZZ_CORE_SRC := $(wildcard $(addprefix core/,frameset.cpp placeholder.cpp grid.cpp schedule.cpp \
	scenario.cpp duration.cpp journal.cpp api_request.cpp auth.cpp text.cpp utc_time.cpp \
	jobs_api.cpp site_api.cpp json_fields.cpp jobspec.cpp protocol.cpp safe_path.cpp site_schedule.cpp task_env.cpp \
	agent_socket.cpp json_checks.cpp plugin_registry.cpp task_memory.cpp fsroot.cpp))
FUZZ_CORE_OBJ := $(patsubst %.cpp,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_CORE_SRC))
FUZZ_LIB := $(FUZZ_BUILD)/lib/libhearth-fuzz.a

$(FUZZ_BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# auth.cpp hashes tokens with OpenSSL's libcrypto.
$(FUZZ_BIN): $(FUZZ_BUILD)/bin/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -o $@ $^ -lcrypto

fuzz-deps:
	@tools/install-deps.sh fuzz

# Ends with "N passed, N failed, 0 skipped": one test a target, failed when it crashed.
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory -j2 $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_BIN)

demo: deps
	@$(MAKE) --no-print-directory -j2 $(HEARTH) $(AGENT)
	@examples/render-batch/demo.sh $(HEARTH)

bench: deps
	@$(MAKE) --no-print-directory -j2 $(HEARTH) $(BENCH_BIN)
	@bench/run.sh $(BUILD)

bench-agent: deps
	@$(MAKE) --no-print-directory -j2 $(HEARTH) $(AGENT)
	@bench/agent.sh $(BUILD)

# Two tenants' 100,000 tasks on a 3-host test grid with hosts killed and
# restored (root only; bench/README.md).
bench-soak: deps
	@$(MAKE) --no-print-directory -j2 $(HEARTH) $(AGENT)
	@bench/soak.sh $(BUILD)

# The scheduler's dispatch path against the sqlite3 shell, and 10^9 queued
# tasks' memory and submit latency (bench/README.md).
bench-sched: deps
	@$(MAKE) --no-print-directory -j2 $(BUILD)/bench/sched_dispatch
	@bench/sched.sh $(BUILD)

# hearth sim on 1,000 sites and 10,000 nodes for a week (bench/README.md).
bench-sim: deps
	@$(MAKE) --no-print-directory -j2 $(HEARTH)
	@bench/sim.sh $(BUILD)

MAN_PAGES := $(wildcard man/*.[1-8])
man:
	@for p in $(MAN_PAGES); do mandoc -Tlint -W warning $$p || exit 1; done; echo "man pages lint clean"

SYSTEMD_DIR ?= /lib/systemd/system
install: $(HEARTH) $(AGENT)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(HEARTH) $(DESTDIR)$(PREFIX)/bin/hearth
	install -d $(DESTDIR)$(SYSTEMD_DIR)
	sed 's|/usr/local/bin|$(PREFIX)/bin|' grid-agent/systemd/hearth-serve.service > $(DESTDIR)$(SYSTEMD_DIR)/hearth-serve.service
	if [ -n "$(AGENT)" ]; then install -m 0755 $(AGENT) $(DESTDIR)$(PREFIX)/bin/grid-agent; \
	  install -d $(DESTDIR)$(SYSTEMD_DIR) $(DESTDIR)/etc/hearth; \
	  sed 's|/usr/local/bin|$(PREFIX)/bin|' grid-agent/systemd/grid-agent.service > $(DESTDIR)$(SYSTEMD_DIR)/grid-agent.service; \
	  [ -e $(DESTDIR)/etc/hearth/grid-agent.toml ] || install -m 0644 grid-agent/systemd/grid-agent.toml $(DESTDIR)/etc/hearth/; fi
	for p in $(MAN_PAGES); do s=$${p##*.}; install -m 0644 $$p $(DESTDIR)$(PREFIX)/share/man/man$$s/; done
	install -d $(DESTDIR)$(PREFIX)/share/hearth/dashboard
	install -m 0644 $(DASHBOARD_SRC) $(DESTDIR)$(PREFIX)/share/hearth/dashboard/
	install -d $(DESTDIR)$(PREFIX)/share/hearth/templates
	install -m 0644 $(TEMPLATES_SRC) $(DESTDIR)$(PREFIX)/share/hearth/templates/

FORMAT_FILES = $(CORE_SRC) $(RUNNER_SRC) $(AGENT_SRC) $(UNIT_SRC) $(PROGRAM_SRC) $(INTEG_SRC) \
	$(wildcard core/*.hpp runner/*/*.hpp grid-agent/*.hpp plugins/*/*.hpp tests/*/*.hpp tests/fuzz/*.cpp)
format:
	clang-format -i $(FORMAT_FILES)

# CI's formatting check. Half the tree predates .clang-format, and
# reformatting it at once would collide with every branch in flight, so it
# checks the lines changed since FORMAT_BASE (where this branch left main);
# `git clang-format $(FORMAT_BASE)` fixes them.
FORMAT_BASE ?= $(shell git merge-base HEAD origin/main 2>/dev/null || git merge-base HEAD main 2>/dev/null || echo HEAD)
.PHONY: format-check
format-check:
	@out=$$(git clang-format --diff --extensions cpp,hpp $(FORMAT_BASE) -- core runner grid-agent plugins tests 2>&1); \
	case "$$out" in \
	  *"did not modify any files"*|*"no modified files to format"*) echo "format-check: the changed lines are formatted";; \
	  *) printf '%s\n' "$$out"; echo "format-check: run 'git clang-format $(FORMAT_BASE)' to format them" >&2; exit 1;; \
	esac

# The layering of ../shared/DESIGN.md: core/ includes nothing of plugins/,
# runner/ or grid-agent/ (plugin contracts live in core/); plugins/ nothing
# of runner/ or grid-agent/; the unit tests (tests/unit) neither: the
# programs' code is tested in tests/program.
.PHONY: layers-check
layers-check:
	@bad=$$(grep -nE '^#include "(plugins|runner|grid-agent)/' core/*.cpp core/*.hpp; \
	        grep -nE '^#include "(runner|grid-agent)/' plugins/*/*.cpp plugins/*/*.hpp tests/unit/*.cpp tests/unit/*.hpp); \
	if [ -n "$$bad" ]; then printf '%s\n' "$$bad"; echo "layers-check: core/ and plugins/ must not include the programs (see ../shared/DESIGN.md)" >&2; exit 1; fi; \
	echo "layers-check: core/ depends on no plugin or program; plugins/ and tests/unit on no program"

clean:
	rm -rf build build-asan build-fuzz

# Multi-host jobs on a test grid of network namespaces (tests/grid/testgrid.sh),
# a shared grid there (hearth serve and two hearth site runs: grid_shared),
# and a Slurm cluster there (testgrid.sh --slurm: grid_slurm);
# needs root and `ip netns`, and says why it skips where it cannot run.
.PHONY: test-grid
test-grid: deps
	@$(MAKE) --no-print-directory -j2 $(HEARTH) $(AGENT) $(INTEG)
	@tests/run.sh $(BUILD) grid grid_shared grid_slurm

-include $(FUZZ_CORE_OBJ:.o=.d) $(patsubst $(FUZZ_BUILD)/bin/%,$(FUZZ_BUILD)/obj/tests/fuzz/%.d,$(FUZZ_BIN))
-include $(CORE_OBJ:.o=.d) $(RUNNER_OBJ:.o=.d) $(AGENT_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(PROGRAM_OBJ:.o=.d) $(INTEG_OBJ:.o=.d)
