# lmlab: the two commands of the README (`make test`, `make demo`) and their parts.
# Each target does the set-up it needs on a fresh Debian 12 machine.

BUILD     ?= build
BUILD_TYPE ?= Release
JOBS      ?= $(shell nproc)
PYTHON    ?= /usr/bin/python3
LMLAB     := $(BUILD)/lmlab
CMAKE_FLAGS ?=

.PHONY: all deps configure build python test smoke demo bench sanitize fuzz clean

all: build

deps:
	./scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The Python module alone: build/python/lmlab (use with PYTHONPATH=build/python /usr/bin/python3).
python: configure
	cmake --build $(BUILD) -j $(JOBS) --target lmlab_python lmlab_python_package
	@echo "import lmlab with: PYTHONPATH=$(BUILD)/python $(PYTHON)"

# Unit and integration tests (CTest), then a CLI smoke run.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory smoke

smoke:
	$(LMLAB) list
	$(LMLAB) info
	rm -rf $(BUILD)/smoke
	$(LMLAB) run foundation.teacher_student --quick --out $(BUILD)/smoke
	$(LMLAB) report $(BUILD)/smoke

# The quick reproduction of every claim: runs/demo/report.html.
demo: build
	rm -rf runs/demo
	$(LMLAB) reproduce --quick --out runs/demo

# Benchmarks: lmlab C++ against Python PyTorch (bench/peers) in the same run.
bench: configure
	cmake -S . -B $(BUILD) -DLMLAB_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS)
	BUILD=$(BUILD) PYTHON=$(PYTHON) ./bench/run.sh

# The library, the CLI and the C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer, in
# their own build directory (the same ccache); any report fails the run. LibTorch itself is not
# instrumented: leaks inside it and in the OpenMP runtime are suppressed (tests/sanitize/lsan.supp).
SANITIZE_BUILD ?= build-sanitize
sanitize: deps
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLMLAB_SANITIZERS=ON \
	  -DLMLAB_PYTHON=OFF $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) $(SANITIZE_CTEST_FLAGS)

# libFuzzer on every parser of outside input (tests/fuzz/<name>_fuzz.cpp), FUZZ_SECONDS each, built
# with clang in build-fuzz/. Each target starts from its checked-in corpus; the inputs that reached
# new code are merged back into tests/fuzz/corpus/<name>/, a crash is saved in
# tests/fuzz/crashes/<name>/; both are replayed by `make test` (tests/fuzz/replay_test.cpp).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= checkpoint config fortunes idx packed points pyargs
fuzz:
	./scripts/install-deps.sh --fuzz
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DLMLAB_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	./scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
