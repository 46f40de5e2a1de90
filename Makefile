# vioplane top-level Makefile.
#
# Every folder contributes a `build.mk` fragment (kvmtool/liburing style: one
# `xxx-objs +=` per line).  Objects live out of tree under $(BUILD)/obj, programs
# under $(BUILD).  `V=1` prints full commands, `SAN=1` builds with ASan+UBSan.

BUILD	?= build
OBJ	:= $(BUILD)/obj
CC	?= gcc
CLANG	?= clang
AR	?= ar

ifeq ($(V),1)
Q	:=
E	:= @true
else
Q	:= @
E	:= @echo
MAKEFLAGS += --no-print-directory
endif

CFLAGS_BASE := -std=gnu11 -O2 -g -Wall -Wextra -Werror -MMD -MP \
	-D_GNU_SOURCE -fno-strict-aliasing -pthread
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
endif
# Public headers: <folder>/include/<folder>/*.h
INCLUDES := -Ivirtio/include -Ikvm/include -Ivmm/include -Ivhost-user/include \
	-Ivhost-kernel/include -Iguest-drivers/include
CFLAGS	:= $(CFLAGS_BASE) $(INCLUDES) $(EXTRA_CFLAGS)
LDFLAGS	:= -pthread $(LDFLAGS_SAN) $(EXTRA_LDFLAGS)

# Rebuild everything when the compiler flags change (e.g. SAN=1 after a plain
# build) or when what the fragments probed does (CONFIG_FLAGS, e.g. libdpdk
# installed since the last build): the stamp is written below, after them.
FLAGS_STAMP := $(OBJ)/.flags
CONFIG_FLAGS :=	# fragments: += whatever their probes found that changes objects

# Filled in by the fragments.
PROGS	:=	# host programs: name -> $(BUILD)/name, objects in name-objs, libs in name-libs
LIBS	:=	# static libraries: name -> $(OBJ)/libname.a, objects in name-objs
TESTS	:=	# unit test programs: tests/unit/foo.c -> $(BUILD)/tests/foo
EXTRA_TARGETS :=	# anything else `make all` must build (guest images, ...)
FUZZERS	:=	# libFuzzer harnesses: name -> $(BUILD)/fuzz/name, sources in name-fuzz-srcs
BENCHES	:=	# benchmark targets: `make bench-NAME`; `make bench` runs them all

.PHONY: all
all: deps-ok

include $(wildcard */build.mk) $(wildcard */*/build.mk) $(wildcard perf/*.mk)

FLAGS_NOW := $(CC) $(CFLAGS) $(LDFLAGS) $(CONFIG_FLAGS)
$(shell mkdir -p $(OBJ); [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = "$(FLAGS_NOW)" ] || \
	echo "$(FLAGS_NOW)" > $(FLAGS_STAMP))

all: $(addprefix $(BUILD)/,$(PROGS)) $(addprefix $(BUILD)/tests/,$(TESTS)) $(EXTRA_TARGETS) \
	$(addprefix $(BUILD)/fuzz/,$(FUZZERS))

$(OBJ)/%.o: %.c $(FLAGS_STAMP)
	$(E) "  CC      $<"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $($(firstword $(subst /, ,$<))-cflags) -c $< -o $@

$(OBJ)/%.o: %.S $(FLAGS_STAMP)
	$(E) "  AS      $<"
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

define lib_rule
$(OBJ)/lib$(1).a: $$(addprefix $(OBJ)/,$$($(1)-objs))
	$$(E) "  AR      $$@"
	$$(Q)rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach l,$(LIBS),$(eval $(call lib_rule,$(l))))

# A program links its objects, then its libraries (listed most dependent first).
define prog_rule
$(BUILD)/$(1): $$(addprefix $(OBJ)/,$$($(1)-objs)) $$(foreach l,$$($(1)-libs),$(OBJ)/lib$$(l).a)
	$$(E) "  LD      $$@"
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) -o $$@ $$^ $$(LDFLAGS) $$($(1)-ldlibs)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# Unit tests: each tests/unit/NAME.c is its own program; NAME-libs lists the
# libraries it needs.
define test_rule
$(BUILD)/tests/$(1): $(OBJ)/tests/unit/$(1).o $$(foreach l,$$($(1)-libs),$(OBJ)/lib$$(l).a)
	$$(E) "  LD      $$@"
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) -o $$@ $$^ $$(LDFLAGS) $$($(1)-ldlibs)
endef
$(foreach t,$(TESTS),$(eval $(call test_rule,$(t))))

# libFuzzer harnesses are always built with clang, ASan and UBSan, straight from
# their sources (they do not share objects with the gcc build).
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(INCLUDES)
define fuzz_rule
$(BUILD)/fuzz/$(1): $$($(1)-fuzz-srcs) $(FLAGS_STAMP)
	$$(E) "  FUZZ    $$@"
	@mkdir -p $$(dir $$@)
	$$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $$@ $$($(1)-fuzz-srcs) $$($(1)-fuzz-ldlibs)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))

FUZZ_SECS ?= 60
.PHONY: fuzz
fuzz: deps-ok
	$(Q)$(MAKE) $(addprefix $(BUILD)/fuzz/,$(FUZZERS))
	$(Q)for f in $(FUZZERS); do tests/fuzz/run.sh $(BUILD)/fuzz/$$f $(FUZZ_SECS) || exit 1; done

.PHONY: bench
bench: $(addprefix bench-,$(BENCHES))

# --- dependencies ------------------------------------------------------------
# scripts/deps.sh --if-missing is quiet and does nothing when every package is
# there; otherwise it installs them (apt-get) before anything is built.
.PHONY: deps deps-ok
deps:
	@scripts/deps.sh
deps-ok:
	@scripts/deps.sh --if-missing

# --- tests -------------------------------------------------------------------
.PHONY: check
check: deps-ok
	$(Q)$(MAKE) all
	$(Q)BUILD=$(BUILD) SAN=$(SAN) tests/run.sh

.PHONY: demo
demo: deps-ok
	$(Q)$(MAKE) all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

.PHONY: clean
clean:
	rm -rf $(BUILD)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
