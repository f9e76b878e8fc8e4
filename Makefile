# nestrouter — one entry point: make, make test, make demo, make fuzz (later: image, run, bench).
# The release this tree leads to; the package version adds git's count and commit
# (image/deb/version.sh: 0.1.0~git33.ga493b199 before the tag v0.1.0).
VERSION  := 0.1.0
NR_VERSION ?= $(shell image/deb/version.sh $(VERSION) 2>/dev/null || echo $(VERSION))
NR_VERSION := $(NR_VERSION)
CC       ?= gcc
BUILD    ?= build
PKGS     := yaml-0.1
D_PKGS   := libnl-3.0 libnl-route-3.0 libnftables libsystemd libmnl zlib
V_PKGS   := libvirt libsystemd
CFLAGS   ?= -O2 -g
WARN     := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Idaemon
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(D_PKGS) $(V_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
D_LIBS     = $(shell pkg-config --libs $(PKGS) $(D_PKGS) 2>/dev/null)
V_LIBS     = $(shell pkg-config --libs $(PKGS) $(V_PKGS) 2>/dev/null)
L_LIBS     = $(shell pkg-config --libs $(PKGS) libsystemd 2>/dev/null)
ASAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

CORE_SRC := $(sort $(wildcard daemon/core/*/*.c))
# daemon/lib: small modules shared by the programs. The sd-event ones (child supervisor,
# debounced pass) go into nestrouterd and nestrouter-virt; nestrouterctl links no event loop,
# only the IMDS client's blocking side.
LIB_EV_SRC  := daemon/lib/debounce.c daemon/lib/supervise.c
LIB_CTL_SRC := daemon/lib/imds_http.c
# the engine and the recording fake backend: pure, so the engine's unit test runs without root
FAKE_SRC := daemon/backend/fake/fake.c daemon/backend/fake/fake_virt.c
ENGINE_TEST_SRC := daemon/engine/engine.c $(FAKE_SRC)
# nestrouter-virt (daemon/helper/main.c): everything that links libvirt, so that nestrouterd
# and nestrouterctl load none of it
V_ONLY   := daemon/backend/virt/helper.c daemon/backend/virt/shutdown.c \
            daemon/backend/virt/virt_dom.c daemon/backend/virt/virt_event.c
V_SRC    := $(sort $(wildcard daemon/helper/*.c)) $(V_ONLY) daemon/backend/virt/kvm_probe.c \
            daemon/backend/virt/import.c daemon/backend/virt/chan.c daemon/lib/log.c \
            daemon/backend/virt/blank.c daemon/lib/fileio.c $(LIB_EV_SRC)
D_SRC    := $(filter-out $(V_ONLY) $(FAKE_SRC),$(sort $(wildcard daemon/*.c daemon/lib/*.c \
            daemon/control/*.c daemon/azure/*.c daemon/engine/*.c daemon/backend/*/*.c)))
CTL_SRC  := $(sort $(wildcard daemon/ctl/*.c)) $(LIB_CTL_SRC)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# what the tests/unit/test_virt_*.c programs link besides the core (they run on libvirt's test
# driver): nestrouter-virt's code without its main
VIRT_TEST_SRC := $(filter-out daemon/helper/main.c,$(V_SRC))
CTL_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))

.PHONY: all deps test unit list-unit check-configs fuzz fuzz-replay demo clean man
all: $(BUILD)/nestrouterd $(BUILD)/nestrouterctl $(BUILD)/nestrouter-virt

Q := $(if $(V),,@)
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(WARN) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC/SAN  $<")
	$(Q)$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(WARN) -O1 -g $(ASAN) -DNR_YAML_CROSSCHECK -MMD -MP -c -o $@ $<

$(BUILD)/nestrouterd: $(call obj,obj,$(CORE_SRC) $(D_SRC))
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(D_LIBS)

$(BUILD)/nestrouter-virt: $(call obj,obj,$(CORE_SRC) $(V_SRC))
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(V_LIBS)

$(BUILD)/nestrouterctl: $(call obj,obj,$(CORE_SRC) $(CTL_SRC))
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CTL_LIBS)

# The schema as docs/config.md's key tables should show it (tests/docs/test-config-keys.sh)
$(BUILD)/tests/config-keys: $(BUILD)/obj/tests/docs/config_keys.o $(call obj,obj,$(CORE_SRC))
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Man pages, from markdown with pandoc (docs/man/build.sh); nestrouter.yaml(5) carries
# docs/config.md itself.
MAN_PAGES := $(BUILD)/man/nestrouterd.8 $(BUILD)/man/nestrouterctl.8 $(BUILD)/man/nestrouter.yaml.5
man: $(MAN_PAGES)

$(BUILD)/man/%: docs/man/%.md docs/man/build.sh docs/man/man.lua docs/config.md
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  MAN     $@")
	$(Q)NR_VERSION=$(NR_VERSION) docs/man/build.sh $< $@

# Unit tests: each tests/unit/test_X.c is one cmocka program, built with ASan/UBSan.
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/unit/%,$(UNIT_SRC))
$(BUILD)/asan/tests/unit/%: $(BUILD)/asan/tests/unit/%.o $(call obj,asan,$(CORE_SRC))
	$(CC) $(ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/asan/tests/unit/test_engine: $(BUILD)/asan/tests/unit/test_engine.o \
		$(call obj,asan,$(CORE_SRC) $(ENGINE_TEST_SRC))
	$(CC) $(ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/asan/tests/unit/test_virt_%: $(BUILD)/asan/tests/unit/test_virt_%.o \
		$(call obj,asan,$(CORE_SRC) $(VIRT_TEST_SRC))
	$(CC) $(ASAN) -o $@ $^ $(V_LIBS) -lcmocka

# the nft backend's batch encoder: pure, tested byte for byte
$(BUILD)/asan/tests/unit/test_nft_wire: $(BUILD)/asan/tests/unit/test_nft_wire.o \
		$(call obj,asan,$(CORE_SRC) daemon/backend/nft/nft_wire.c)
	$(CC) $(ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

# tests/unit/test_lib_*.c: daemon/lib's event-loop modules (and the log they write to)
$(BUILD)/asan/tests/unit/test_lib_%: $(BUILD)/asan/tests/unit/test_lib_%.o \
		$(call obj,asan,$(CORE_SRC) $(LIB_EV_SRC) daemon/lib/log.c)
	$(CC) $(ASAN) -o $@ $^ $(L_LIBS) -lcmocka

$(BUILD)/asan/nestrouterd: $(call obj,asan,$(CORE_SRC) $(D_SRC)) $(BUILD)/asan/nestrouter-virt
	$(CC) $(ASAN) -o $@ $(filter %.o,$^) $(D_LIBS)

$(BUILD)/asan/nestrouter-virt: $(call obj,asan,$(CORE_SRC) $(V_SRC))
	$(CC) $(ASAN) -o $@ $^ $(V_LIBS)

deps:
	@tests/deps.sh

list-unit:
	@echo $(UNIT_BINS)

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check-configs: $(BUILD)/nestrouterd
	$(BUILD)/nestrouterd --check configs/*.yaml

test: deps
	@$(MAKE) --no-print-directory all
	@tests/run-all.sh

FUZZ_SECONDS ?= 60
$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) $(PKG_CFLAGS) -DNR_YAML_CROSSCHECK -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

fuzz: deps $(BUILD)/fuzz/fuzz_config
	@tests/fuzz/run.sh $(BUILD)/fuzz/fuzz_config $(FUZZ_SECONDS)

# The committed corpus (and every crash ever found) run once, without new inputs.
fuzz-replay: $(BUILD)/fuzz/fuzz_config
	$(BUILD)/fuzz/fuzz_config -runs=0 tests/fuzz/corpus

# ROUTE_SERVER=1: two hosts behind a simulated Azure Route Server (BGP) instead
demo: deps
	@$(MAKE) --no-print-directory all
	@if [ "$(ROUTE_SERVER)" = 1 ]; then tests/demo-bgp.sh; else tests/demo.sh; fi

clean:
	rm -rf $(BUILD)

# The Debian package (make deb) and its tests (image/deb/deb.mk).
-include image/deb/deb.mk

# The appliance image (make image, vhd, run, test-image) lives with its scripts; it installs the
# package (DEB).
-include image/image.mk

# make bench: benchmarks against the raw-tool floor and libvirt (tests/bench/).
-include tests/bench/bench.mk

-include $(shell find $(BUILD)/obj $(BUILD)/asan -type f -name '*.d' 2>/dev/null)
