# keel: one Makefile for the hypervisor image, the host-built tests and the emulator runs.
# Targets and their contracts: ../shared/CONVENTIONS.md and docs/testing.md.

BUILD   := build
# `make V=1` shows the commands
Q := $(if $(V),,@)
CC      := gcc
HOSTCC  := gcc
FUZZCC  := clang
LD      := ld
OBJCOPY := objcopy

# ---- keel itself (freestanding, one set of objects) -------------------------------------------
# COMMON_OBJS go into both images; each image adds only its own firmware entry: keel.efi the UEFI
# one (boot/efi, with gnu-efi), keel.elf the Multiboot2 one (boot/mb2).
COMMON_DIRS := lib lib/rt core mm guest vdev vdev/pci vdev/virtio io arch/x86 arch/x86/svm \
	arch/x86/vmx arch/x86/emul drivers
KEEL_DIRS := $(COMMON_DIRS) boot/efi boot/mb2
KEEL_SRCS := $(foreach d,$(KEEL_DIRS),$(wildcard $(d)/*.c $(d)/*.S))
src2obj = $(patsubst %,$(BUILD)/keel/%.o,$(1))
COMMON_OBJS := $(call src2obj,$(foreach d,$(COMMON_DIRS),$(wildcard $(d)/*.c $(d)/*.S)))
EFI_OBJS := $(call src2obj,$(wildcard boot/efi/*.c boot/efi/*.S))
MB2_OBJS := $(call src2obj,$(wildcard boot/mb2/*.c boot/mb2/*.S))

EFI_INC   := -isystem /usr/include/efi -isystem /usr/include/efi/x86_64
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
KEEL_CFLAGS := -std=c11 -O2 -g -ffreestanding -fno-builtin-printf -fpic -fshort-wchar \
	-mno-red-zone -maccumulate-outgoing-args -mgeneral-regs-only \
	-fstack-protector-strong -mstack-protector-guard=global -fno-strict-aliasing \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fcf-protection=none \
	$(WARN) -I. -MMD -MP
KEEL_ASFLAGS := -I. -MMD -MP -fpic
# build flavours: `make SMAP=0` leaves SMAP off in root mode (arch/x86/cpu_features.c)
ifeq ($(SMAP),0)
KEEL_CFLAGS += -DKEEL_SMAP=0
endif
# `make SVM_ASIDS=N` uses at most N ASIDs per CPU (N >= 2: ASID 0 is keel's), to run ASID
# generations under QEMU, which offers 16 (arch/x86/svm/asid.h)
ifneq ($(SVM_ASIDS),)
KEEL_CFLAGS += -DKEEL_SVM_ASIDS=$(SVM_ASIDS)
endif

$(BUILD)/keel/boot/efi/%.c.o: KEEL_CFLAGS += $(EFI_INC) -DGNU_EFI_USE_MS_ABI

$(BUILD)/keel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC    $<'
	$(Q)$(CC) $(KEEL_CFLAGS) -c $< -o $@

$(BUILD)/keel/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo '  AS    $<'
	$(Q)$(CC) $(KEEL_ASFLAGS) -c $< -o $@

# The console font is generated from Debian's console-setup-linux at build time (tools/psf2c.c).
FONT_PSF := /usr/share/consolefonts/Lat15-VGA16.psf.gz
COMMON_OBJS += $(BUILD)/keel/gen/font8x16.c.o
$(BUILD)/tools/psf2c: tools/psf2c.c
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -O2 -Wall -Wextra -Werror $< -o $@
$(BUILD)/gen/font8x16.c: $(BUILD)/tools/psf2c
	@mkdir -p $(dir $@)
	$(Q)zcat $(FONT_PSF) | $(BUILD)/tools/psf2c > $@.tmp && mv $@.tmp $@
$(BUILD)/keel/gen/%.c.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo '  CC    $<'
	$(Q)$(CC) $(KEEL_CFLAGS) -c $< -o $@

# gnu-efi's crt0 applies the relocations and calls efi_main; our own linker script keeps
# .text, .rodata and .data on separate pages so keel can map them RX, R and RW+NX.
$(BUILD)/keel.so: $(COMMON_OBJS) $(EFI_OBJS) boot/efi/keel-efi.lds
	$(LD) -shared -Bsymbolic -nostdlib -znocombreloc -T boot/efi/keel-efi.lds \
		/usr/lib/crt0-efi-x86_64.o $(COMMON_OBJS) $(EFI_OBJS) -L/usr/lib -lefi -lgnuefi -o $@

$(BUILD)/keel.efi: $(BUILD)/keel.so
	$(OBJCOPY) -j .text -j .rodata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@
	@echo "built $@ ($$(stat -c %s $@) bytes)"

# keel.elf: a static, non-PIE link at the fixed address of boot/mb2/keel-mb2.lds. The objects are
# -fpic; ld resolves their GOT references at link time, so nothing is left to relocate at run
# time: the recipe fails if readelf finds a relocation section or a dynamic segment.
$(BUILD)/keel.elf: $(COMMON_OBJS) $(MB2_OBJS) boot/mb2/keel-mb2.lds
	$(LD) -static -nostdlib --no-dynamic-linker -z noexecstack -z max-page-size=4096 \
		-T boot/mb2/keel-mb2.lds $(MB2_OBJS) $(COMMON_OBJS) -o $@.tmp
	$(Q)if readelf -rlW $@.tmp | grep -qE '^Relocation section|DYNAMIC|INTERP'; then \
		echo "$@: run-time relocations left:"; readelf -rW $@.tmp | head; exit 1; fi
	$(Q)! command -v grub-file >/dev/null || grub-file --is-x86-multiboot2 $@.tmp || \
		{ echo "$@: grub-file finds no Multiboot2 header"; exit 1; }
	$(Q)mv $@.tmp $@
	@echo "built $@ ($$(stat -c %s $@) bytes)"

.DEFAULT_GOAL := all
.PHONY: all
all: $(BUILD)/keel.efi $(BUILD)/keel.elf

# ---- host builds of the arch-neutral logic (unit tests with ASan + UBSan, fuzzers) ------------
HOST_DIRS := lib core mm guest vdev vdev/pci vdev/virtio io arch/x86/emul drivers boot/mb2
# Files in those folders that need the real machine (privileged instructions, firmware):
NOHOST    := $(wildcard core/main.c core/console.c core/vm.c core/vm_run.c core/exit_*.c core/launch.c \
	core/vcpu_reset.c core/vm_balloon.c core/vm_dma.c core/vm_pci.c core/vcpu_clock.c core/sched.c core/console_input.c core/guest_console.c core/vm_io.c \
	drivers/uart16550.c drivers/acpi_host_hw.c drivers/iommu_hw.c drivers/vtd_hw.c drivers/amdvi_hw.c drivers/pci_host_hw.c drivers/nvme_hw.c drivers/pci_msix_hw.c drivers/nic_hw.c core/host_disks_hw.c core/status_bar_hw.c boot/mb2/mb2_main.c boot/mb2/mb2_platform.c)
HOST_SRCS := $(filter-out $(NOHOST),$(foreach d,$(HOST_DIRS),$(wildcard $(d)/*.c))) \
	arch/x86/vmx/guest_state.c arch/x86/svm/asid.c arch/x86/svm/vmcb_check.c \
	arch/x86/svm/tcg_dr7.c
SUPPORT_SRCS := $(wildcard tests/support/*.c)

SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all
HOST_CFLAGS := -std=gnu11 -O1 -g -DKEEL_HOST $(WARN) -Wno-missing-prototypes -I. $(SAN) -MMD -MP \
	$(HOST_CFLAGS_EXTRA)
HOST_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(HOST_SRCS) $(SUPPORT_SRCS))

$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo '  HOSTCC $<'
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/host/libkeel.a: $(HOST_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

$(BUILD)/unit/test_decoder: UNIT_LIBS += -lZydis
$(BUILD)/unit/test_gpt: UNIT_LIBS += -lz
# the console's real font, generated above
$(BUILD)/unit/test_fbcon: $(BUILD)/gen/font8x16.c
$(BUILD)/unit/test_fbcon: UNIT_LIBS += $(BUILD)/gen/font8x16.c
$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/host/libkeel.a
	@mkdir -p $(dir $@)
	@echo '  HOSTLD $@'
	$(Q)$(HOSTCC) $(HOST_CFLAGS) $< $(BUILD)/host/libkeel.a -lcmocka $(UNIT_LIBS) -o $@

.PHONY: unit
unit: $(UNIT_BINS) guest-images
	tools/run-unit-tests $(UNIT_BINS)

# Fuzzers: clang + libFuzzer, with ASan and UBSan.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -DKEEL_HOST -DKEEL_FUZZ -I. -Wall -Wextra -Werror \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -MMD -MP
FUZZ_OBJS := $(patsubst %,$(BUILD)/fuzzobj/%.o,$(HOST_SRCS) $(SUPPORT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

$(BUILD)/fuzzobj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo '  FUZZCC $<'
	$(Q)$(FUZZCC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/libkeel.a: $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_decoder: FUZZ_LIBS += -lZydis
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libkeel.a
	@echo '  FUZZLD $@'
	$(Q)$(FUZZCC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(BUILD)/fuzz/libkeel.a $(FUZZ_LIBS) -o $@

FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-regress
fuzz-regress: $(FUZZ_BINS)
	tools/run-fuzz regress $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tools/run-fuzz campaign $(FUZZ_BINS)

# ---- test guests: tiny Multiboot v1 kernels (tests/guests, CONVENTIONS.md) ----------------------
GUEST_SRCS := $(filter-out tests/guests/common.S,$(wildcard tests/guests/*.S))
GUEST_ELFS := $(patsubst tests/guests/%.S,$(BUILD)/guests/%.elf,$(GUEST_SRCS))
$(BUILD)/guests/%.o: tests/guests/%.S tests/guests/check.h $(wildcard tests/guests/*.inc)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -m32 -c $< -o $@
$(BUILD)/guests/%.elf: $(BUILD)/guests/%.o $(BUILD)/guests/common.o tests/guests/guest.lds
	@echo '  GUEST $@'
	$(Q)$(LD) -m elf_i386 --no-warn-rwx-segments -T tests/guests/guest.lds $< $(BUILD)/guests/common.o -o $@
# hello linked at 0x8000, inside keel's default boot area (a kernel GRUB and QEMU load)
GUEST_ELFS += $(BUILD)/guests/hello-low.elf
$(BUILD)/guests/hello-low.elf: $(BUILD)/guests/hello.o $(BUILD)/guests/common.o tests/guests/guest-low.lds
	@echo '  GUEST $@'
	$(Q)$(LD) -m elf_i386 --no-warn-rwx-segments -T tests/guests/guest-low.lds $< $(BUILD)/guests/common.o -o $@
.SECONDARY: $(patsubst %.elf,%.o,$(GUEST_ELFS)) $(BUILD)/guests/common.o
.PHONY: test-guests
test-guests: $(GUEST_ELFS)

# ---- test inputs: Debian's kernel and a busybox initramfs --------------------------------------
.PHONY: guest-images
guest-images:
	tools/build-guest-images $(BUILD)/guest
	tools/build-demo-root $(BUILD)/guest/demo-root.img

# ---- emulator runs ------------------------------------------------------------------------------
.PHONY: deps run e2e-svm e2e-vmx test bench lint coverage cloc clean
coverage: guest-images
	tools/coverage

# the I/O figures first: CONVENTIONS.md wants boot-ratio as the last line
bench: all guest-images
	tools/bench-io
	tools/bench

deps:
	tools/install-deps

run: deps
	$(MAKE) all guest-images
	tools/make-esp $(BUILD)/esp-demo tools/demo/keel.cfg $(BUILD)/guest/vmlinuz \
		$(BUILD)/guest/initrd.gz $(BUILD)/guest/demo-root.img
	tools/run-qemu --interactive --smp 2 $(BUILD)/esp-demo

e2e-vmx: all test-guests guest-images
	tests/e2e/run-vmx

e2e-svm: all test-guests guest-images
	tests/e2e/run-svm

# `make test` is the first command on a fresh machine too (CONVENTIONS.md): it installs what it
# lacks before it builds anything (the console font alone needs console-setup-linux).
test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-regress
	$(MAKE) lint
	$(MAKE) e2e-svm
	$(MAKE) e2e-vmx

# Static checks: clang-tidy, cppcheck, gcc -fanalyzer, clang-format (tools/lint, docs/testing.md).
# The clang-format step is a check (LINT_FORMAT=0 only reports what `clang-format -i` would change).
LINT_FORMAT ?= 1
TEST_SRCS := $(UNIT_SRCS) $(FUZZ_SRCS) $(SUPPORT_SRCS)
lint:
	$(Q)KEEL_SRCS='$(KEEL_SRCS)' KEEL_CFLAGS='$(KEEL_CFLAGS)' \
		EFI_CFLAGS='$(EFI_INC) -DGNU_EFI_USE_MS_ABI' HOST_CFLAGS='$(HOST_CFLAGS)' \
		TEST_SRCS='$(TEST_SRCS)' LINT_FORMAT='$(LINT_FORMAT)' tools/lint

# Lines of keel itself (not tests or tools): DESIGN.md asks us to say the size.
cloc:
	@echo "keel: $$(cat $(KEEL_SRCS) $(foreach d,$(KEEL_DIRS),$(wildcard $(d)/*.h)) | grep -cv '^\s*$$') non-blank lines in $(words $(KEEL_SRCS)) source files"

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
