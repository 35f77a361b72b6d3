# orchestra: `make demo` and `make test` install what is missing (Debian, as
# root), configure and build with CMake under build/, and run.

LUAS      ?= lua5.4 lua5.1 luajit
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

lua_ver = $(if $(filter luajit,$(1)),luajit,$(patsubst lua%,%,$(1)))

ALL_LUAS  := lua5.4 lua5.3 lua5.2 lua5.1 luajit

.PHONY: all deps node-deps build demo test test-asan test-tsan fuzz conformance format format-check clean bench-jsonata \
        $(addprefix build-,$(ALL_LUAS))

all: build

deps:
	@sh tools/deps.sh

build: deps $(addprefix build-,$(LUAS))

# One build directory per Lua: a module built for one Lua must never be
# found by another.
$(addprefix build-,$(ALL_LUAS)): build-%:
	@cmake -S . -B $(BUILD)/$* -DORCHESTRA_LUA=$(call lua_ver,$*) \
	  -DORCHESTRA_WERROR=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD)/$* -j $(JOBS)

# The demo installs and builds only what it needs (Lua 5.4 and the module,
# not the test tools or the C tests) and prints only the demos' output: the
# hybrid runs offline (an agent with a workflow as a tool, and a workflow
# calling bedrock:invokeModel, scripted models) with their traces, then the
# order workflow ending with its cost against an agent's (the
# build's is in $(BUILD)/demo-build.log, shown if it fails).
demo:
	@sh tools/deps.sh demo
	@mkdir -p $(BUILD)
	@cmake -S . -B $(BUILD)/lua5.4 -DORCHESTRA_LUA=5.4 -DORCHESTRA_WERROR=ON \
	  $(CMAKE_ARGS) >$(BUILD)/demo-build.log 2>&1 || { cat $(BUILD)/demo-build.log; exit 1; }
	@cmake --build $(BUILD)/lua5.4 -j $(JOBS) --target orchestra_lua \
	  >>$(BUILD)/demo-build.log 2>&1 || { cat $(BUILD)/demo-build.log; exit 1; }
	@LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 examples/hybrid_agent_uses_workflow.lua
	@echo
	@LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 examples/hybrid_invoke_model.lua
	@echo
	@LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 examples/order_flow.lua

# The model server's npm packages (spec/support/package-lock.json), for the
# C test that drives every provider through it: installed when the lock
# file is newer than what npm ci last installed.
NODE_DEPS := spec/support/node_modules/.package-lock.json
$(NODE_DEPS): spec/support/package-lock.json
	@cd spec/support && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: $(NODE_DEPS)

test: build node-deps
	@LUAS="$(LUAS)" BUILD="$(BUILD)" sh tools/run-tests.sh

# AddressSanitizer + UndefinedBehaviorSanitizer: the C tests, then the specs
# under Lua 5.4 (an uninstrumented interpreter, so the runtimes are
# preloaded).
test-asan: deps build-lua5.4 build-luajit node-deps
	@cmake -S . -B $(BUILD)/asan-lua5.4 -DORCHESTRA_LUA=5.4 -DORCHESTRA_WERROR=ON \
	  -DCMAKE_BUILD_TYPE=Debug -DORCHESTRA_SANITIZE=address,undefined >/dev/null
	@cmake --build $(BUILD)/asan-lua5.4 -j $(JOBS)
	@LUAS=lua5.4 BUILD="$(BUILD)" BUILD_SUFFIX=asan- SANITIZE=1 sh tools/run-tests.sh

# ThreadSanitizer over the C tests, among them test_threads: four threads
# posting 10,000 task answers while the engine's thread steps.
test-tsan: deps node-deps
	@cmake -S . -B $(BUILD)/tsan -DORCHESTRA_LUA=5.4 -DORCHESTRA_WERROR=ON \
	  -DCMAKE_BUILD_TYPE=Debug -DORCHESTRA_SANITIZE=thread >/dev/null
	@cmake --build $(BUILD)/tsan -j $(JOBS)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(BUILD)/tsan --output-on-failure

# Random inputs under AddressSanitizer + UndefinedBehaviorSanitizer (a few
# minutes): mutated definitions loaded and run, random files through a
# distributed Map's ItemReader, mutated JSON texts, mutated JSONata
# expressions. FUZZ_N inputs per seed.
FUZZ_N ?= 3000
fuzz: deps
	@cmake -S . -B $(BUILD)/asan-lua5.4 -DORCHESTRA_LUA=5.4 -DORCHESTRA_WERROR=ON \
	  -DCMAKE_BUILD_TYPE=Debug -DORCHESTRA_SANITIZE=address,undefined >/dev/null
	@cmake --build $(BUILD)/asan-lua5.4 -j $(JOBS)
	@for mode in definitions readers json jsonata; do for seed in 1 2 3; do \
	  LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/asan-lua5.4/?.so;;" \
	  lua5.4 tools/fuzz.lua $$mode $$seed $(FUZZ_N) || exit 1; done; done

# Every AWS-recorded case (JSONPath and JSONata) under lua5.4 alone.
conformance: build-lua5.4
	@ORCHESTRA_CONFORMANCE=all ORCHESTRA_TEST_LUA=lua5.4 \
	  ORCHESTRA_TEST_BUILD=$(BUILD)/lua5.4 busted --lua=lua5.4 \
	  --cpath="$(BUILD)/lua5.4/?.so" -o plainTerminal spec/conformance_spec.lua

format:
	@clang-format -i core/src/*.c core/src/*.h core/include/orchestra/*.h \
	  core/tests/*.c lua/*.c lua/*.h

format-check:
	@clang-format --dry-run -Werror core/src/*.c core/src/*.h \
	  core/include/orchestra/*.h core/tests/*.c lua/*.c lua/*.h

clean:
	rm -rf $(BUILD)

# The benchmark against the peer (bench/README.md): installs the peer with
# npm into $(BUILD)/bench-node, runs everything, writes bench/RESULTS.md.
.PHONY: bench bench-smoke bench-soak bench-agent
bench: deps build-lua5.4 build-luajit
	@BUILD=$(BUILD) sh bench/setup.sh
	@BUILD=$(BUILD) lua5.4 bench/bench.lua

# The same end to end at tiny sizes, one run each (a minute or less);
# writes nothing.
bench-smoke: deps build-lua5.4 build-luajit
	@BUILD=$(BUILD) sh bench/setup.sh
	@BUILD=$(BUILD) lua5.4 bench/bench.lua --smoke

# Memory under churn: SOAK_N start/close cycles per variant (with and
# without task timeouts), RSS and engine:stats() every 100,000; exits 1
# unless memory stays flat (bench/README.md).
SOAK_N ?= 2000000
bench-soak: deps build-lua5.4
	@LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 bench/soak.lua $(SOAK_N)

# JSONata mode against JSONPath mode (pass_chain, map_inline), and the peer
# on the JSONata forms.
bench-jsonata: deps build-lua5.4
	@BUILD=$(BUILD) sh bench/setup.sh
	@BUILD=$(BUILD) LUA_PATH="$$PWD/lua/?.lua;$$PWD/lua/?/init.lua;;" \
	  LUA_CPATH="$$PWD/$(BUILD)/lua5.4/?.so;;" lua5.4 bench/jsonata_mode.lua

# The agent loop (bench/agent.lua): overhead per step with the scripted
# model, flatness at step 1,000 (also in callgrind's instructions), 200
# invocations in flight against the node model server (longest
# engine:step(), CPU against wall time while waiting), and the ratios
# against the peers of bench/agents/ (npm ci into $(BUILD)/bench-agents).
AGENT_PEERS := $(BUILD)/bench-agents/node_modules/.package-lock.json
$(AGENT_PEERS): bench/agents/package-lock.json
	@mkdir -p $(BUILD)/bench-agents
	@cp bench/agents/*.mjs bench/agents/package.json bench/agents/package-lock.json $(BUILD)/bench-agents/
	@cd $(BUILD)/bench-agents && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bench-agent: deps build-lua5.4 node-deps $(AGENT_PEERS)
	@BENCH_AGENTS_DIR=$(BUILD)/bench-agents \
	  LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/lua5.4/?.so;;" \
	  lua5.4 bench/agent.lua
