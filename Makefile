# warden — build, run, test.  `make run` and `make test` install what is missing first.
.DEFAULT_GOAL := all
.PHONY: all deps run test test-all bench-audit bench-mask unit integration asan asan-unit asan-integration fuzz fuzz-build bench clean lint banned format

BUILD   ?= build
CC      ?= cc
PKGS    := libuv libssl libcrypto sqlite3 jansson yaml-0.1 libcurl libhs libpcre2-8 libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpg_query -lhttp_parser -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wvla \
           $(shell $(CC) -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c17 $(WARN) -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fno-strict-aliasing \
              -Isrc $(PKG_CFLAGS) $(CFLAGS)

SRCS     := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS     := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

all: $(BUILD)/warden

# `make V=1` shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/warden: $(OBJS)
	@echo "  LINK  $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LINK  $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(PKG_LIBS) -lcmocka

-include $(OBJS:.o=.d)

deps:
	@scripts/deps.sh

# deps runs first, in its own step: the build's pkg-config flags are read when
# make starts, so the build itself runs in a fresh make after the installs.
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

# t_94a_catalog runs a unit binary against the cluster: build it next to warden.
integration: all $(BUILD)/unit/test_catalog
	@WARDEN=$(abspath $(BUILD)/warden) tests/integration/run.sh

# The same binary with AddressSanitizer + UndefinedBehaviorSanitizer.
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

asan:
	@$(ASAN_MAKE) build/asan/warden build/asan/unit/test_catalog

asan-integration: asan
	@$(ASAN_ENV) WARDEN=$(abspath build/asan/warden) WARDEN_SANITIZED=1 tests/integration/run.sh

# Every unit test binary built and run with them too (test_catalog, which needs the
# cluster, skips here and runs in asan-integration's t_94a_catalog).
asan-unit:
	@$(ASAN_ENV) $(ASAN_MAKE) unit

# The library is compiled once with coverage + sanitizers; each target links it.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -std=c17 -g -O1 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS)
FUZZ_OBJS    := $(LIB_SRCS:%.c=build/fuzz/obj/%.o)
fuzz-build: $(FUZZ_TARGETS)
$(FUZZ_OBJS): build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $@"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -MMD -MP -c -o $@ $<
$(FUZZ_TARGETS): build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p build/fuzz
	@echo "  FUZZ  $@"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS)
-include $(FUZZ_OBJS:.o=.d)

fuzz: fuzz-build
	@scripts/run-fuzz.sh $(FUZZ_TARGETS)

banned:
	@! grep -rnE '\b(sprintf|vsprintf|strcpy|strcat|gets)\s*\(' src tests/unit tests/fuzz \
	  || { echo "banned call found (use snprintf / bounded copies)"; exit 1; }

test: deps
	@$(MAKE) --no-print-directory test-all

test-all: all banned
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory asan-unit
	@$(MAKE) --no-print-directory asan-integration
	@echo "make test: all suites passed"

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/pg.sh

# The masking engine alone (MB/s per core over DataRow-sized values, Hyperscan and PCRE2),
# then end to end (bench/mask.sh): SELECT * FROM customers LIMIT 1000 tps, masking on vs off.
bench-mask:
	@$(MAKE) --no-print-directory all
	@mkdir -p build
	$(Q)$(CC) $(ALL_CFLAGS) -o build/mask_engine bench/mask_engine.c $(filter build/obj/src/mask/% build/obj/src/core/buf.o build/obj/src/core/util.o build/obj/src/core/log.o,$(LIB_OBJS)) $(PKG_LIBS)
	@build/mask_engine both 200
	$(Q)$(CC) $(ALL_CFLAGS) -o build/mask_rows bench/mask_rows.c $(LIB_OBJS) $(PKG_LIBS)
	@bench/mask.sh

bench-audit:
	@$(MAKE) --no-print-directory all
	@bench/audit.sh

# jansson.h is read first: its iteration macros (json_array_foreach) are not
# known to cppcheck otherwise, and system headers are not searched.
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem --include=$(shell pkg-config --variable=includedir jansson)/jansson.h \
	  -Isrc src

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h src/*/*/*.h)

clean:
	rm -rf build
