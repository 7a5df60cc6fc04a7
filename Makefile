# kiln: plain make through pkg-config. `make` builds, `make check` tests (ASan+UBSan), `make demo` runs the
# main job, `make fuzz` fuzzes longer, `make bench` runs the benchmarks. DEVELOPER=1 adds -Werror.

PKGS      := libdw libelf zlib libprotobuf-c jansson libbpf libcurl
TEST_PKGS := cmocka

CC        ?= cc
CFLAGS    ?= -O2 -g
PREFIX    ?= /usr/local
BUILD     ?= build
SAN_BUILD := build/san

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wformat=2 -Wno-format-nonliteral
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer $(WARN) $(CFLAGS) -Isrc -I$(BUILD)/gen \
	$(PKG_CFLAGS) -DKILN_VERSION='"$(VERSION)"' -MMD -MP

PROTO_C   := $(BUILD)/gen/profile.pb-c.c
SRCS      := $(filter-out src/main.c,$(shell find src -name '*.c' -not -path 'src/bpf/*' | sort))
OBJS      := $(patsubst %.c,$(BUILD)/%.o,$(SRCS)) $(BUILD)/gen/profile.pb-c.o
LIB       := $(BUILD)/libkiln.a
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
PRELOAD_SRCS := $(sort $(wildcard preload/*.c))
PRELOAD   := $(if $(PRELOAD_SRCS),$(BUILD)/libkiln-heap.so)
HELPERS_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPERS   := $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPERS_SRCS))

.PHONY: all deps check check-build check-long demo fuzz bench clean install
.SECONDARY:

all: $(BUILD)/kiln $(PRELOAD)

$(BUILD)/gen/profile.pb-c.c $(BUILD)/gen/profile.pb-c.h: src/formats/profile.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=src/formats --c_out=$(BUILD)/gen src/formats/profile.proto

$(BUILD)/gen/profile.pb-c.o: $(BUILD)/gen/profile.pb-c.c
	$(CC) $(filter-out -Wmissing-prototypes,$(ALL_CFLAGS)) -c -o $@ $<

$(BUILD)/%.o: %.c | $(BUILD)/gen/profile.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/kiln: $(BUILD)/src/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

# The heap profiler's preload library: only preload/ and nothing of libkiln (STYLE.md 3).
$(BUILD)/libkiln-heap.so: $(PRELOAD_SRCS) $(wildcard preload/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g -fPIC -shared -fvisibility=hidden -fno-omit-frame-pointer $(WARN) \
		-o $@ $(PRELOAD_SRCS) -ldl -lpthread

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) -o $@ $< $(LIB) \
		$(LDFLAGS) $(PKG_LIBS) $(shell pkg-config --libs $(TEST_PKGS)) -lm -lpthread

# Test programs (profiling targets): built plainly, without sanitizers, as users' programs would be.
$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	cc -O1 -g -fno-omit-frame-pointer -o $@ $< -lpthread -lm

# The bundled example programs, built as a user would build code to profile.
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(sort $(wildcard examples/*.c)))
$(BUILD)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	cc -O2 -g -fno-omit-frame-pointer -o $@ $< -lm -lpthread

# --- eBPF (kiln profile --mode offcpu|wall|io) -------------------------------------------------------------
# src/bpf/NAME.bpf.c is compiled with clang -target bpf against the running kernel's BTF (libbpf CO-RE) and
# turned into BUILD/gen/NAME.skel.h by bpftool; the loaders src/record/bpf_*.c include the skeletons.
BPF_CLANG   ?= clang
BPFTOOL     ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_SRCS    := $(sort $(wildcard src/bpf/*.bpf.c))
BPF_SKELS   := $(patsubst src/bpf/%.bpf.c,$(BUILD)/gen/%.skel.h,$(BPF_SRCS))

$(BUILD)/gen/vmlinux.h:
	@mkdir -p $(BUILD)/gen
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.bpf.o: src/bpf/%.bpf.c $(BUILD)/gen/vmlinux.h src/record/bpf_shared.h $(wildcard src/bpf/*.h)
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(BUILD)/gen -c -o $@ $<

$(BUILD)/gen/%.skel.h: $(BUILD)/gen/%.bpf.o
	$(BPFTOOL) gen skeleton $< >$@.tmp && mv $@.tmp $@

$(patsubst %.c,$(BUILD)/%.o,$(wildcard src/record/bpf_*.c src/record/offcpu*.c src/record/iotrace*.c)): $(BPF_SKELS)

# System call names for the I/O report, from the C library's <asm/unistd.h>.
$(BUILD)/gen/syscall_names.h:
	@mkdir -p $(BUILD)/gen
	echo '#include <asm/unistd.h>' | $(CC) -E -dM -x c - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/	[\2] = "\1",/p' >$@.tmp && mv $@.tmp $@
$(patsubst %.c,$(BUILD)/%.o,$(wildcard src/record/iotrace*.c)): $(BUILD)/gen/syscall_names.h
# --- end of eBPF -----------------------------------------------------------------------------------------------

deps:
	@scripts/install-deps.sh

check-build: $(BUILD)/kiln $(PRELOAD) $(UNIT_BINS) $(HELPERS)

# `make check`: install what is missing, build under ASan+UBSan, run unit and CLI tests (and short fuzz runs).
check: deps
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN=1 check-build
	@$(MAKE) --no-print-directory all
	@BUILD=$(SAN_BUILD) RELEASE_BUILD=$(BUILD) tests/run.sh

# `make check-long`: 10,000 damaged copies (cut, bytes flipped) of real files of every format, under ASan+UBSan:
# a sane result or exit 2 with one line, never a crash, hang or sanitizer report (make check runs 300).
check-long: deps
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN=1 $(SAN_BUILD)/kiln
	@python3 tests/damage.py --kiln $(SAN_BUILD)/kiln --count $${KILN_DAMAGE_COUNT:-10000}

# `make demo`: install what is missing, build, and render a flame graph and hotspot report of a real capture.
demo: deps all $(EXAMPLES)
	@scripts/demo.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh long

bench: deps all
	@bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	$(if $(PRELOAD),install -m 755 $(PRELOAD) $(DESTDIR)$(PREFIX)/lib/)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# For scripts: `make -s print-PKGS` prints the pkg-config packages kiln links with.
print-%:
	@echo $($*)
