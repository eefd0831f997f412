# jinpu - build, test, demo, bench, install.
#
#   make            build ./jinpu (installs missing system packages first)
#   make demo       build and run the bundled report over datasets/
#   make test       build twice (release; ASan+UBSan) and run every test
#   make check-asan only the sanitizer build's tests
#   make bench      time jinpu against the peer tools on generated data
#   make install PREFIX=/usr/local
#   make format / make lint / make clean

PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := lua5.4 yaml-0.1 zlib libdeflate libcrypto libedit
WARN     := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
            -Wformat=2 -Wno-format-nonliteral
BASE     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread $(WARN) \
            -Isrc/core -Isrc/bind -Isrc/cli
# evaluated when used, i.e. after tools/deps.sh has run
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lm
CORE_LIBS  = $(shell pkg-config --libs yaml-0.1 zlib libdeflate libcrypto) -lm

V        ?= release
ifeq ($(V),tsan)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
else ifeq ($(V),asan)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
OPT      := -O2 -g
endif
B        ?= build/$(V)

CORE_SRC := $(sort $(wildcard src/core/*.c))
BIND_SRC := $(sort $(wildcard src/bind/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LUA_SRC  := $(sort $(shell find lua -path lua/examples -prune -o -name '*.lua' -print 2>/dev/null))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
BIND_OBJ := $(BIND_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
EMB_OBJ  := $(B)/gen/lua_embedded.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps demo test check check-asan check-tsan bench install uninstall clean format format-check lint unit-bins
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

# The variants build in their own trees; `bins` builds one of them.
jinpu: FORCE
	@$(MAKE) --no-print-directory V=release B=build/release bins
	@cmp -s build/release/jinpu jinpu || cp build/release/jinpu jinpu
asan: FORCE
	@$(MAKE) --no-print-directory V=asan B=build/asan bins
.PHONY: FORCE bins asan
FORCE:
bins: $(B)/jinpu unit-bins

# C unit tests link the core only: proof that it stands without Lua.
unit-bins: $(UNIT_BIN)
$(B)/tests/%: tests/unit/%.c $(B)/libjinpu.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE) $(OPT) -Itests/unit $(shell pkg-config --cflags yaml-0.1 zlib libcrypto) -o $@ $< $(B)/libjinpu.a $(CORE_LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- use ----------------------------------------------------------------------

demo: jinpu
	./jinpu run lua/jinpu/report.lua datasets demo-out

test: jinpu asan
	@sh tests/run.sh build/release build/asan

check: test

check-asan: asan
	@sh tests/run.sh build/asan

# ThreadSanitizer over the C unit tests (the parallel reader, gzip, verbs)
check-tsan: FORCE
	@$(MAKE) --no-print-directory V=tsan B=build/tsan bins
	@for t in build/tsan/tests/test_*; do TSAN_OPTIONS=halt_on_error=1 $$t | tail -n 1 || exit 1; done

bench: jinpu
	@sh bench/run.sh

install: jinpu
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 jinpu $(DESTDIR)$(PREFIX)/bin/jinpu

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/jinpu

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tools/*.c

format-check:
	clang-format --dry-run -Werror src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tools/*.c

lint: build/.deps-ok
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	  --suppress=missingIncludeSystem --inline-suppr -Isrc/core -Isrc/bind src/
	@! grep -l 'lua\.h\|lauxlib\.h\|exit *(' src/core/*.c src/core/*.h || \
	  { echo "lint: the core must not include lua.h or call exit()"; exit 1; }

clean:
	rm -rf build jinpu tests/tmp
