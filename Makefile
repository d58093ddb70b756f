# esalign — build, test and run.  make | make test | make check | make demo | make bench | make bench-quick
CC      ?= gcc
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread
# The library and the tests see the internal headers; examples/ sees only the public one (include/esalign.h).
INC     = -Isrc -Iinclude
LDLIBS  = -lhts -lopenblas -lz -lm -lpthread
# Kernels for one instruction set live in *_avx2.c / *_avx512.c, or in one source compiled once per set
# (src/align_simd.c -> align_simd_avx2.o, align_simd_avx512.o), and are chosen at run time.
AVX2_FLAGS   = -mavx2 -mfma -mpopcnt
AVX512_FLAGS = -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vpopcntdq -mfma -mpopcnt
# VNNI (vpdpbusd) only for the int8 conv kernel: its dispatcher checks avx512vnni, while the other AVX-512 kernels
# are chosen on CPUs that may lack it (e.g. Skylake-X), where an auto-vectorised vpdpbusd would fault.
$(BUILD)/qconv_avx512.o: AVX512_FLAGS += -mavx512vnni

BUILD   ?= build
BIN     ?= esalign
TESTBIN ?= tests/run_tests
LIB_SRC = $(filter-out src/main.c src/align_simd.c,$(wildcard src/*.c))
LIB_OBJ = $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRC)) $(BUILD)/align_simd_avx2.o $(BUILD)/align_simd_avx512.o
TEST_SRC = $(wildcard tests/*.c)
TEST_OBJ = $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_SRC))
HDRS    = $(wildcard src/*.h include/*.h tests/*.h)

.PHONY: all test check tsan demo bench bench-quick clean setup
all: $(BIN) $(BUILD)/embed_search

$(BUILD)/align_simd_avx2.o: src/align_simd.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(INC) $(AVX2_FLAGS) -DES_SIMD_AVX2 -c -o $@ $<
$(BUILD)/align_simd_avx512.o: src/align_simd.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(INC) $(AVX512_FLAGS) -DES_SIMD_AVX512 -c -o $@ $<
$(BUILD)/%_avx2.o: src/%_avx2.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(INC) $(AVX2_FLAGS) -c -o $@ $<
$(BUILD)/%_avx512.o: src/%_avx512.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(INC) $(AVX512_FLAGS) -c -o $@ $<
$(BUILD)/%.o: src/%.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(INC) -c -o $@ $<
$(BUILD)/tests/%.o: tests/%.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(INC) -Itests -c -o $@ $<
$(BUILD)/tests/test_lowc.o: src/lowc.c   # it includes the module's .c to reach its static functions
$(BUILD):
	mkdir -p $(BUILD)/tests
$(BUILD)/libesalign.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/main.o $(BUILD)/libesalign.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(TESTBIN): $(TEST_OBJ) $(BUILD)/libesalign.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
# A small program built against the public header alone (only -Iinclude), as proof that it is enough.
$(BUILD)/embed_search: examples/embed_search.c $(BUILD)/libesalign.a include/esalign.h
	$(CC) $(CFLAGS) -Iinclude -o $@ $< $(BUILD)/libesalign.a $(LDLIBS)

# All tests: unit tests, then the table of command-line cases; the last line is "N passed, N failed".
# (BUILD/BIN/TESTBIN can be set so that several checkouts or developers build side by side.)
test: $(BIN) $(TESTBIN) $(BUILD)/embed_search fuzz-build
	@ESALIGN_FUZZ_SMOKE=1 bash tests/run-all.sh $(abspath $(BIN)) $(abspath $(TESTBIN)) $(abspath $(BUILD)/embed_search)

# The same tests under AddressSanitizer and UBSan, built into build-san/.
check:
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		esalign-san tests/run_tests_san build-san/embed_search
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 bash tests/run-all.sh \
		$(abspath esalign-san) $(abspath tests/run_tests_san) $(abspath build-san/embed_search)
# The tests that run threads, under ThreadSanitizer, built into build-tsan/: unit tests by name, then the command
# line with several threads (tests/tsan-cli.sh). OpenBLAS runs single-threaded there: its own thread pool is not
# instrumented, so TSan would report its hand-offs as races (our code never runs BLAS threads under its own).
TSAN_TESTS = es_for es_pipeline es_progress store_build store_ivf store_candidates ivf_ map_ pe_map align_threads \
	nn_train_threads
tsan:
	$(MAKE) BUILD=build-tsan BIN=build-tsan/esalign TESTBIN=build-tsan/run_tests CFLAGS="-O1 -g -fsanitize=thread" \
		build-tsan/esalign build-tsan/run_tests
	OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 build-tsan/run_tests $(TSAN_TESTS)
	OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 bash tests/tsan-cli.sh build-tsan/esalign
esalign-san: $(BUILD)/main.o $(BUILD)/libesalign.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
tests/run_tests_san: $(TEST_OBJ) $(BUILD)/libesalign.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

setup:
	bash scripts/setup.sh
demo: $(BIN)
	bash scripts/demo.sh
bench: $(BIN)
	ESALIGN=$(abspath $(BIN)) bash scripts/bench.sh
bench-quick: $(BIN)
	ESALIGN=$(abspath $(BIN)) bash scripts/bench.sh --quick

clean:
	rm -rf build build-san build-tsan build-fuzz esalign esalign-san tests/run_tests tests/run_tests_san
include tests/fuzz/fuzz.mk
