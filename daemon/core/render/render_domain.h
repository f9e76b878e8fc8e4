/* One nested guest (struct nr_vm) as libvirt domain XML, plus the facts that go with it: the
 * hash stored in the domain's <metadata> (nestrouter's namespace) that tells a changed definition
 * and marks the domains nestrouter owns, the CPU the guest really gets, and where its console log
 * and imported disk live. Pure: no libvirt, no syscalls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config/config.h"

/* The <metadata> namespace. Only domains carrying an element of it are ever touched. */
#define NR_DOMAIN_XMLNS "http://nestrouter.invalid/xmlns/guest/1"
#define NR_DOMAIN_XMLNS_PREFIX "nestrouter"

/* The CPU model a guest gets under TCG when the config asks for host-model/host-passthrough,
 * which need KVM: libvirt's and QEMU's own TCG default, which every TCG build runs. */
#define NR_TCG_CPU_MODEL "qemu64"

/* Debian's OVMF (package ovmf), 4 MiB builds: plain, and Secure Boot with Microsoft's keys
 * enrolled in the variable store template. The templates are copied by libvirt into the VM's own
 * NVRAM file at its first start. */
#define NR_OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define NR_OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define NR_OVMF_CODE_SB "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
#define NR_OVMF_VARS_SB "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"

struct nr_domain_in {
        const struct nr_vm *vm;
        enum nr_accel accel;       /* what the host really gives: NR_ACCEL_KVM or NR_ACCEL_TCG */
        const char *bridge;        /* guests.bridge */
        const char *console_path;  /* serial console log file */
        const char *disk_path;     /* qcow2 to attach (the VM's own, or the imported copy); NULL:
                                    * no disk (kernel boot) */
        const char *const *more_disks; /* vm->disks resolved: qcow2 paths, in order */
        const char *seed_path;     /* cloud-init's NoCloud seed image (cidata), or NULL */
        size_t n_more_disks;
        enum nr_firmware firmware; /* decided: NR_FW_UEFI, or BIOS (NR_FW_AUTO counts as BIOS) */
        const char *nvram_path;    /* UEFI: the VM's own variable store (domain_nvram_path) */
};

struct nr_domain {
        char *xml;
        char hash[17];             /* 16 hex digits: FNV-1a 64 of the XML without <metadata> */
        char cpu[NR_NAME_MAX];     /* what the guest gets: host-model, host-passthrough, a model */
        char firmware[20];         /* bios, uefi or uefi-secure-boot */
        char note[400];            /* what the guest does not get under TCG, or "" */
};

/* Renders in->vm. Returns 0, -EINVAL for an accel that is not KVM/TCG, -ENOMEM. */
int render_domain(const struct nr_domain_in *in, struct nr_domain *out);
void render_domain_free(struct nr_domain *d);

/* The stable UUID nestrouter gives a VM: derived from its name (RFC 9562 version 8), so a
 * redefinition keeps it (libvirt refuses a new UUID for an existing name) and the guest's
 * SMBIOS UUID never changes. */
void domain_uuid(const char *name, char out[37]);

/* The hash from the text of our metadata element (as virDomainGetMetadata returns it):
 * copies 16 hex digits to out and returns 0, or -ENOENT. */
int domain_meta_hash(const char *meta, char out[17]);

/* Paths under the state dir: the console log (console/NAME.log) and the qcow2 a raw, vhd or
 * vhdx disk is imported to (disks/NAME.qcow2). */
void domain_console_path(const char *state_dir, const char *name, char *buf, size_t size);
void domain_import_path(const char *state_dir, const char *name, char *buf, size_t size);

/* The mode of the state dir's disks/ and nvram/: QEMU runs as its own user (libvirt-qemu with
 * the system libvirtd) and must reach the files libvirt hands over to it, so others may
 * traverse, but not list (the guests' names stay private). */
#define DOMAIN_DIR_MODE 0711

/* The VM's UEFI variable store: nvram/NAME_VARS.fd, or nvram/NAME_VARS.ms.fd with Secure Boot
 * (another template: switching Secure Boot on starts from Microsoft's enrolled keys). */
void domain_nvram_path(const char *state_dir, const struct nr_vm *vm, char *buf, size_t size);

/* The VM's cloud-init seed image: cloud-init/NAME.iso. */
void domain_seed_path(const char *state_dir, const char *name, char *buf, size_t size);

/* A blank disk nestrouter creates: the first (disk_size:) is disks/NAME.qcow2, disks[i] with a
 * size is disks/NAME-disk(i+2).qcow2 (the second disk of the VM is -disk2). */
void domain_blank_path(const char *state_dir, const char *name, size_t index, char *buf,
                       size_t size);

/* True when the VM's disk must be imported to qcow2 before use. */
bool domain_needs_import(const struct nr_vm *vm);
