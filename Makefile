# jinpu - build, test, demo, bench, install.
#
#   make            build ./jinpu (installs missing system packages first)
#   make demo       build and run the bundled report over datasets/
#   make test       build twice (release; ASan+UBSan) and run every test
#   make check-asan only the sanitizer build's tests
#   make fuzz       run each libFuzzer harness (tests/fuzz) FUZZ_SECONDS seconds
#   make coverage   line and branch coverage of the core by every test (lcov)
#   make bench      time jinpu against the peer tools on generated data
#                   (1M rows; BENCH_SIZES=5m,20m adds the large sizes: 1.2 GB at 20M)
#   make install PREFIX=/usr/local
#   make format / make lint / make clean

PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := lua5.4 yaml-0.1 zlib libdeflate libcrypto libedit
WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
            -Wformat=2 -Wno-format-nonliteral
BASE     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread $(WARN) \
            -Iinclude -Isrc/core -Isrc/bind -Isrc/cli
# evaluated when used, i.e. after tools/deps.sh has run
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lm
CORE_LIBS  = $(shell pkg-config --libs yaml-0.1 zlib libdeflate libcrypto) -lm

V        ?= release
ifeq ($(V),tsan)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
else ifeq ($(V),asan)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else ifeq ($(V),cov)
# gcov counters; atomic because the reader and the gzip writer run threads
OPT      := -O0 -g --coverage -fprofile-update=atomic
else ifeq ($(V),fuzz)
# the core instrumented for libFuzzer (clang only), checked by ASan and UBSan
CC       := clang
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link \
            -fno-sanitize-recover=undefined
else
OPT      := -O2 -g
endif
B        ?= build/$(V)

CORE_SRC := $(sort $(wildcard src/core/*.c))
BIND_SRC := $(sort $(wildcard src/bind/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LUA_SRC  := $(sort $(shell find lua -path lua/examples -prune -o -name '*.lua' -print 2>/dev/null))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)

CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
BIND_OBJ := $(BIND_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
EMB_OBJ  := $(B)/gen/lua_embedded.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(B)/tests/replay_%)

.PHONY: all deps demo test check check-asan check-tsan fuzz coverage bench install uninstall clean format format-check lint unit-bins
.DEFAULT_GOAL := all

all: jinpu

deps: build/.deps-ok
build/.deps-ok: tools/deps.sh
	@sh tools/deps.sh
	@mkdir -p build && touch $@

# ---- build ------------------------------------------------------------------

$(B)/%.o: %.c | build/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

# shipped plugins are found in the tree when the binary runs from inside it
$(B)/src/bind/lua_plugin.o: BASE += -DJP_TREE='"$(CURDIR)"'

$(B)/gen/lua_embedded.c: build/embed $(LUA_SRC)
	@mkdir -p $(B)/gen
	build/embed $@ lua $(LUA_SRC)

build/embed: tools/embed.c
	@mkdir -p build
	$(CC) -O1 -o $@ $<

$(B)/gen/lua_embedded.o: $(B)/gen/lua_embedded.c | build/.deps-ok
	$(CC) $(BASE) $(OPT) -c $< -o $@

$(B)/libjinpu.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/jinpu: $(CLI_OBJ) $(BIND_OBJ) $(EMB_OBJ) $(B)/libjinpu.a
	$(CC) $(OPT) -pthread -o $@ $(CLI_OBJ) $(BIND_OBJ) $(EMB_OBJ) $(B)/libjinpu.a $(PKG_LIBS)

# Test hooks (JINPU_TEST_* variables that make the process fail or kill itself
# midway) exist only in $(B)/jinpu-hooks: the files that hold them are built a
# second time with -DJP_TEST_HOOKS. The binary that ships has none.
HOOK_SRC := $(shell grep -l JP_TEST_HOOKS $(CORE_SRC) $(BIND_SRC) $(CLI_SRC) 2>/dev/null)
HOOK_OBJ := $(HOOK_SRC:%.c=$(B)/hooks/%.o)
HOOKED   := $(filter-out $(HOOK_SRC:%.c=$(B)/%.o),$(CLI_OBJ) $(BIND_OBJ) $(CORE_OBJ))
$(B)/hooks/%.o: %.c | build/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) -DJP_TEST_HOOKS $(PKG_CFLAGS) -MMD -MP -c $< -o $@
$(B)/jinpu-hooks: $(HOOKED) $(HOOK_OBJ) $(EMB_OBJ)
	$(CC) $(OPT) -pthread -o $@ $(HOOKED) $(HOOK_OBJ) $(EMB_OBJ) $(PKG_LIBS)

# The variants build in their own trees; `bins` builds one of them.
jinpu: FORCE
	@$(MAKE) --no-print-directory V=release B=build/release bins
	@cmp -s build/release/jinpu jinpu || cp build/release/jinpu jinpu
	@$(MAKE) --no-print-directory plugin-libs
asan: FORCE
	@$(MAKE) --no-print-directory V=asan B=build/asan bins
.PHONY: FORCE bins asan plugin-libs fuzz-bins
FORCE:
bins: $(B)/jinpu $(B)/jinpu-hooks unit-bins

# C unit tests link the core only: proof that it stands without Lua.
unit-bins: $(UNIT_BIN) $(REPLAY_BIN)
$(B)/tests/%: tests/unit/%.c $(B)/libjinpu.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) -Itests/unit $(shell pkg-config --cflags yaml-0.1 zlib libcrypto) -o $@ $< $(B)/libjinpu.a $(CORE_LIBS)

# Each fuzz harness as a plain program replaying its committed inputs (make test).
$(B)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(B)/libjinpu.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) -Itests/fuzz $(shell pkg-config --cflags yaml-0.1 zlib libcrypto) -o $@ tests/fuzz/replay.c $< $(B)/libjinpu.a $(CORE_LIBS)

# The harnesses with libFuzzer (V=fuzz builds the core with clang).
fuzz-bins: $(FUZZ_NAMES:%=$(B)/fuzz_%)
$(B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/libjinpu.a
	$(CC) $(BASE) $(OPT) -fsanitize=fuzzer -Itests/fuzz $(shell pkg-config --cflags yaml-0.1 zlib libcrypto) -o $@ $< $(B)/libjinpu.a $(CORE_LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- use ----------------------------------------------------------------------

demo: jinpu
	./jinpu run lua/jinpu/report.lua datasets demo-out

test: jinpu asan
	@sh tests/run.sh build/release build/asan

check: test

check-asan: asan
	@sh tests/run.sh build/asan

# Every test against a gcov build, then a table per core file (tools/coverage.sh).
coverage: FORCE
	@$(MAKE) --no-print-directory V=cov B=build/cov bins
	@find build/cov -name '*.gcda' -delete
	@sh tests/run.sh build/cov | tail -n 1
	@sh tools/coverage.sh build/cov

# Each harness for FUZZ_SECONDS (new inputs go to build/fuzz/work, findings to
# build/fuzz/findings); tests/fuzz/README.md says how to keep a finding.
FUZZ_SECONDS ?= 60
fuzz: FORCE
	@sh tests/fuzz/run.sh --check
	@$(MAKE) --no-print-directory V=fuzz B=build/fuzz fuzz-bins
	@sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

# ThreadSanitizer over the C unit tests (the parallel reader, gzip, verbs)
check-tsan: FORCE
	@$(MAKE) --no-print-directory V=tsan B=build/tsan bins
	@for t in build/tsan/tests/test_*; do TSAN_OPTIONS=halt_on_error=1 $$t | tail -n 1 || exit 1; done

BENCH_SIZES ?= 1m
bench: jinpu
	@sh bench/run.sh --sizes $(BENCH_SIZES)

# Native plugins build their libraries with their own Makefile, against
# include/jinpu.h (docs/plugins.md).
plugin-libs: FORCE
	@for d in plugins/*/; do \
	    if [ -f $$d/Makefile ]; then $(MAKE) --no-print-directory -C $$d JINPU_INCLUDE=$(CURDIR)/include || exit 1; fi; \
	done

# Shipped plugins: Lua ones to share/, those with a native library to lib/
# (found there relative to bin/jinpu: docs/plugins.md).
install: jinpu
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include
	install -m 755 jinpu $(DESTDIR)$(PREFIX)/bin/jinpu
	install -m 644 include/jinpu.h $(DESTDIR)$(PREFIX)/include/jinpu.h
	@for p in plugins/*/; do \
	    n=$$(basename $$p); \
	    if grep -q '^library:' $$p/plugin.yaml; then d=lib; else d=share; fi; \
	    echo "install plugin $$n -> $(PREFIX)/$$d/jinpu/plugins/$$n"; \
	    install -d $(DESTDIR)$(PREFIX)/$$d/jinpu/plugins/$$n || exit 1; \
	    cp -R $$p. $(DESTDIR)$(PREFIX)/$$d/jinpu/plugins/$$n/ || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/jinpu $(DESTDIR)$(PREFIX)/include/jinpu.h
	rm -rf $(DESTDIR)$(PREFIX)/share/jinpu/plugins $(DESTDIR)$(PREFIX)/lib/jinpu/plugins

format:
	clang-format -i include/*.h plugins/*/*.c src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tools/*.c

format-check:
	clang-format --dry-run -Werror include/*.h plugins/*/*.c src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tools/*.c

lint: build/.deps-ok
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	  --suppress=missingIncludeSystem --inline-suppr -Iinclude -Isrc/core -Isrc/bind src/ plugins/
	@! grep -l 'lua\.h\|lauxlib\.h\|exit *(' src/core/*.c src/core/*.h || \
	  { echo "lint: the core must not include lua.h or call exit()"; exit 1; }

clean:
	rm -rf build jinpu tests/tmp
	rm -f plugins/*/*.so
