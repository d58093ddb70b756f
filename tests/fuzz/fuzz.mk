# fuzz.mk — libFuzzer targets (included by the Makefile). `make fuzz` builds build-fuzz/ with clang, ASan and UBSan,
# then runs each target for FUZZ_SECONDS (default 60) on its seed corpus (scripts/fuzz.sh); `make fuzz-smoke` runs
# each for 3 s (part of make test).
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS = $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
.PHONY: fuzz fuzz-build fuzz-smoke
fuzz-build:
	$(MAKE) BUILD=build-fuzz BIN=build-fuzz/esalign CC=clang CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" \
		build-fuzz/esalign $(FUZZ_TARGETS)
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libesalign.a
	$(CC) $(CFLAGS) $(INC) -fsanitize=fuzzer -o $@ $< $(BUILD)/libesalign.a $(LDLIBS)
fuzz: fuzz-build
	bash scripts/fuzz.sh $(FUZZ_SECONDS)
fuzz-smoke: fuzz-build
	bash scripts/fuzz.sh 3
