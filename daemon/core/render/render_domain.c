/* Domain XML for a nested guest. The text is what tests/golden/domain/ holds byte for byte; its
 * hash (everything but the <metadata> element) is how a changed definition is recognised without
 * ever parsing libvirt's normalized XML back. */
#include "core/render/render_domain.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/strbuf.h"

static uint64_t fnv64(uint64_t h, const char *s)
{
        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ull;
        return h;
}

#define FNV64_INIT 14695981039346656037ull

/* XML text and attribute values: the five predefined entities */
static void put_esc(struct nr_buf *b, const char *s)
{
        char one[2] = {0, 0};
        for (; *s; s++) {
                switch (*s) {
                case '&': buf_puts(b, "&amp;"); break;
                case '<': buf_puts(b, "&lt;"); break;
                case '>': buf_puts(b, "&gt;"); break;
                case '\'': buf_puts(b, "&apos;"); break;
                case '"': buf_puts(b, "&quot;"); break;
                default: one[0] = *s; buf_puts(b, one); break;
                }
        }
}

static void tag(struct nr_buf *b, const char *indent, const char *name, const char *text)
{
        buf_printf(b, "%s<%s>", indent, name);
        put_esc(b, text);
        buf_printf(b, "</%s>\n", name);
}

void domain_uuid(const char *name, char out[37])
{
        uint64_t hi = fnv64(fnv64(FNV64_INIT, "nestrouter-guest-uuid-hi:"), name);
        uint64_t lo = fnv64(fnv64(FNV64_INIT, "nestrouter-guest-uuid-lo:"), name);
        uint8_t u[16];
        for (int i = 0; i < 8; i++) {
                u[i] = (uint8_t)(hi >> (56 - 8 * i));
                u[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
        }
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x80); /* version 8: custom */
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* variant 10 */
        snprintf(out, 37,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                 u[14], u[15]);
}

static void add_note(struct nr_domain *out, const char *text)
{
        size_t n = strlen(out->note);
        snprintf(out->note + n, sizeof(out->note) - n, "%s%s", n ? "; " : "", text);
}

/* <cpu>: under TCG the host-* modes cannot work (they describe the host's CPU to KVM), so the
 * guest gets NR_TCG_CPU_MODEL and a note says so. A named model is pinned exactly: under KVM
 * libvirt refuses to start it on a host that cannot provide it (check='partial') instead of
 * quietly giving the guest another CPU; TCG emulates what it can (check='none'). */
static void put_cpu(struct nr_buf *b, const struct nr_domain_in *in, struct nr_domain *out)
{
        const struct nr_vm *vm = in->vm;
        bool tcg = in->accel == NR_ACCEL_TCG;
        const char *model = vm->cpu_model;
        switch (vm->cpu_mode) {
        case NR_CPU_HOST_MODEL:
        case NR_CPU_HOST_PASSTHROUGH:
                if (!tcg) {
                        snprintf(out->cpu, sizeof(out->cpu), "%s", cfg_cpu_mode_name(vm->cpu_mode));
                        buf_printf(b, "  <cpu mode='%s' check='%s'/>\n", out->cpu,
                                   vm->cpu_mode == NR_CPU_HOST_MODEL ? "partial" : "none");
                        return;
                }
                model = NR_TCG_CPU_MODEL;
                char why[120];
                snprintf(why, sizeof(why), "%s needs KVM; under TCG the guest gets %s",
                         cfg_cpu_mode_name(vm->cpu_mode), NR_TCG_CPU_MODEL);
                add_note(out, why);
                break;
        case NR_CPU_NAMED:
                break;
        }
        snprintf(out->cpu, sizeof(out->cpu), "%s", model);
        buf_printf(b, "  <cpu mode='custom' match='exact' check='%s'>\n    <model fallback='forbid'>",
                   tcg ? "none" : "partial");
        put_esc(b, model);
        buf_puts(b, "</model>\n  </cpu>\n");
}

static bool uefi(const struct nr_domain_in *in)
{
        return in->firmware == NR_FW_UEFI;
}

/* UEFI guests get q35 (OVMF's SMM, which Secure Boot needs, is q35 only; Windows 11 expects it);
 * BIOS guests keep i440fx, what every existing definition has. */
static void put_os(struct nr_buf *b, const struct nr_domain_in *in)
{
        const struct nr_vm *vm = in->vm;
        buf_printf(b, "  <os>\n    <type arch='x86_64' machine='%s'>hvm</type>\n",
                   uefi(in) ? "q35" : "pc");
        if (uefi(in)) {
                buf_printf(b, "    <loader readonly='yes' secure='%s' type='pflash'>%s</loader>\n"
                              "    <nvram template='%s'>",
                           vm->secure_boot ? "yes" : "no",
                           vm->secure_boot ? NR_OVMF_CODE_SB : NR_OVMF_CODE,
                           vm->secure_boot ? NR_OVMF_VARS_SB : NR_OVMF_VARS);
                put_esc(b, in->nvram_path ? in->nvram_path : "");
                buf_puts(b, "</nvram>\n");
        }
        if (vm->kernel) {
                tag(b, "    ", "kernel", vm->kernel);
                if (vm->initrd)
                        tag(b, "    ", "initrd", vm->initrd);
                if (vm->cmdline)
                        tag(b, "    ", "cmdline", vm->cmdline);
        } else if (!vm->n_cdroms) {
                buf_puts(b, "    <boot dev='hd'/>\n");
        } /* else: each disk and cdrom has its <boot order> */
        buf_puts(b, "  </os>\n");
}

/* The Hyper-V enlightenments libvirt documents for Windows guests (formatdomain "Hypervisor
 * features"). They are KVM's: under TCG QEMU has none of them, so the guest runs without. */
static void put_features(struct nr_buf *b, const struct nr_domain_in *in, struct nr_domain *out)
{
        const struct nr_vm *vm = in->vm;
        buf_puts(b, "  <features>\n    <acpi/>\n    <apic/>\n");
        if (vm->os == NR_OS_WINDOWS && in->accel == NR_ACCEL_KVM)
                buf_puts(b, "    <hyperv mode='custom'>\n"
                            "      <relaxed state='on'/>\n      <vapic state='on'/>\n"
                            "      <spinlocks state='on' retries='8191'/>\n"
                            "      <vpindex state='on'/>\n      <runtime state='on'/>\n"
                            "      <synic state='on'/>\n      <stimer state='on'/>\n"
                            "      <reset state='on'/>\n      <frequencies state='on'/>\n"
                            "      <tlbflush state='on'/>\n      <ipi state='on'/>\n"
                            "    </hyperv>\n");
        else if (vm->os == NR_OS_WINDOWS)
                add_note(out, "the Hyper-V enlightenments need KVM; under TCG Windows runs "
                              "without them");
        if (uefi(in) && vm->secure_boot)
                buf_puts(b, "    <smm state='on'/>\n");
        buf_puts(b, "  </features>\n");
}

/* Windows keeps its RTC in local time; the Hyper-V clock (KVM) saves it from the TSC's drift */
static void put_clock(struct nr_buf *b, const struct nr_domain_in *in)
{
        if (in->vm->os != NR_OS_WINDOWS) {
                buf_puts(b, "  <clock offset='utc'/>\n");
                return;
        }
        buf_puts(b, "  <clock offset='localtime'>\n"
                    "    <timer name='rtc' tickpolicy='catchup'/>\n"
                    "    <timer name='pit' tickpolicy='delay'/>\n"
                    "    <timer name='hpet' present='no'/>\n");
        if (in->accel == NR_ACCEL_KVM)
                buf_puts(b, "    <timer name='hypervclock' present='yes'/>\n");
        buf_puts(b, "  </clock>\n");
}

static void put_chardev(struct nr_buf *b, const char *kind, const char *path, const char *target)
{
        buf_printf(b, "    <%s type='file'>\n      <source path='", kind);
        put_esc(b, path);
        buf_printf(b, "' append='on'/>\n      %s\n    </%s>\n", target, kind);
}

/* Disks first, then cdroms: a disk that is still blank is not bootable, so the firmware goes
 * on to the cdrom (an installation), and once something is installed the disk boots. */
static void put_disk(struct nr_buf *b, const char *path, bool compat, unsigned *idx,
                     unsigned boot)
{
        /* discard + detect_zeroes: space the guest frees (TRIM, zeroed blocks) goes back to the
         * host, so the qcow2 stays compact */
        buf_puts(b, "    <disk type='file' device='disk'>\n"
                    "      <driver name='qemu' type='qcow2' discard='unmap' "
                    "detect_zeroes='unmap'/>\n      <source file='");
        put_esc(b, path);
        buf_printf(b, "'/>\n      <target dev='%s%c' bus='%s'/>\n", compat ? "sd" : "vd",
                   'a' + (*idx)++, compat ? "sata" : "virtio");
        if (boot)
                buf_printf(b, "      <boot order='%u'/>\n", boot);
        buf_puts(b, "    </disk>\n");
}

static void put_cdrom(struct nr_buf *b, const char *path, unsigned *sd, unsigned boot)
{
        buf_puts(b, "    <disk type='file' device='cdrom'>\n"
                    "      <driver name='qemu' type='raw'/>\n      <source file='");
        put_esc(b, path);
        buf_printf(b, "'/>\n      <target dev='sd%c' bus='sata'/>\n      <readonly/>\n",
                   'a' + (*sd)++);
        if (boot)
                buf_printf(b, "      <boot order='%u'/>\n", boot);
        buf_puts(b, "    </disk>\n");
}

/* The seed as a read-only virtio disk, as cloud-localds' seeds are attached */
static void put_seed_disk(struct nr_buf *b, const char *path, unsigned *vd)
{
        buf_puts(b, "    <disk type='file' device='disk'>\n"
                    "      <driver name='qemu' type='raw'/>\n      <source file='");
        put_esc(b, path);
        buf_printf(b, "'/>\n      <target dev='vd%c' bus='virtio'/>\n      <readonly/>\n"
                      "    </disk>\n", 'a' + (*vd)++);
}

static void put_disks(struct nr_buf *b, const struct nr_domain_in *in)
{
        const struct nr_vm *vm = in->vm;
        bool compat = vm->devices == NR_DEVICES_COMPAT, order = vm->n_cdroms && !vm->kernel;
        unsigned vd = 0, sd = 0, boot = 0;
        if (in->disk_path)
                put_disk(b, in->disk_path, compat, compat ? &sd : &vd, order ? ++boot : 0);
        for (size_t i = 0; i < in->n_more_disks; i++)
                put_disk(b, in->more_disks[i], compat, compat ? &sd : &vd, 0);
        for (size_t i = 0; i < vm->n_cdroms; i++)
                put_cdrom(b, vm->cdroms[i], &sd, order ? ++boot : 0);
        if (!in->seed_path) /* never booted: cloud-init in the guest finds it by its label */
                return;
        if (compat) /* a guest without virtio drivers */
                put_cdrom(b, in->seed_path, &sd, 0);
        else /* Debian's cloud kernel has no AHCI driver: a SATA cdrom is invisible to it */
                put_seed_disk(b, in->seed_path, &vd);
}

static void put_devices(struct nr_buf *b, const struct nr_domain_in *in)
{
        const struct nr_vm *vm = in->vm;
        bool compat = vm->devices == NR_DEVICES_COMPAT;
        buf_puts(b, "  <devices>\n");
        put_disks(b, in);
        buf_printf(b, "    <interface type='bridge'>\n"
                      "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n"
                      "      <source bridge='",
                   vm->mac[0], vm->mac[1], vm->mac[2], vm->mac[3], vm->mac[4], vm->mac[5]);
        put_esc(b, in->bridge);
        /* no iPXE option ROM: nested guests boot from their disk or kernel, never the network */
        buf_printf(b, "'/>\n      <model type='%s'/>\n      <rom enabled='no'/>\n"
                      "    </interface>\n", compat ? "e1000e" : "virtio");
        put_chardev(b, "serial", in->console_path, "<target port='0'/>");
        put_chardev(b, "console", in->console_path, "<target type='serial' port='0'/>");
        if (!vm->kernel) /* a disk-booted OS (Windows) has a screen, not a serial console */
                buf_puts(b, "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>\n"
                            "    <video>\n      <model type='vga'/>\n    </video>\n");
        if (vm->os == NR_OS_WINDOWS) /* an absolute pointer: the VNC mouse follows */
                buf_puts(b, "    <input type='tablet' bus='usb'/>\n");
        if (vm->tpm) /* CRB is what Windows 11 and OVMF expect; SeaBIOS knows TIS */
                buf_printf(b, "    <tpm model='%s'>\n      <backend type='emulator' "
                              "version='2.0'/>\n    </tpm>\n",
                           uefi(in) ? "tpm-crb" : "tpm-tis");
        buf_puts(b, "    <memballoon model='none'/>\n  </devices>\n");
}

int render_domain(const struct nr_domain_in *in, struct nr_domain *out)
{
        const struct nr_vm *vm = in->vm;
        bool compat = vm->devices == NR_DEVICES_COMPAT;
        struct nr_buf head = {0}, body = {0}, all = {0};
        char uuid[37];
        memset(out, 0, sizeof(*out));
        if (in->accel != NR_ACCEL_KVM && in->accel != NR_ACCEL_TCG)
                return -EINVAL;
        if (uefi(in) && !in->nvram_path)
                return -EINVAL;
        if (in->n_more_disks + (in->disk_path ? 1 : 0) + (in->seed_path && !compat) > 26 ||
            vm->n_cdroms > 25 ||
            (compat ? in->n_more_disks + 1 : 0) + vm->n_cdroms + 1 > 26)
                return -E2BIG; /* target names sda..sdz, vda..vdz */
        snprintf(out->firmware, sizeof(out->firmware), "%s",
                 uefi(in) ? (vm->secure_boot ? "uefi-secure-boot" : "uefi") : "bios");
        domain_uuid(vm->name, uuid);
        buf_printf(&head, "<domain type='%s'>\n", in->accel == NR_ACCEL_KVM ? "kvm" : "qemu");
        tag(&head, "  ", "name", vm->name);
        buf_printf(&head, "  <uuid>%s</uuid>\n", uuid);
        buf_puts(&head, "  <description>Managed by nestrouter from the vms: section of its "
                        "configuration; change it there, not here.</description>\n");
        buf_printf(&body, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", vm->memory / 1024);
        buf_printf(&body, "  <vcpu placement='static'>%u</vcpu>\n", vm->vcpus);
        put_os(&body, in);
        put_features(&body, in, out);
        put_cpu(&body, in, out);
        put_clock(&body, in);
        buf_puts(&body, "  <on_poweroff>destroy</on_poweroff>\n"
                        "  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n");
        put_devices(&body, in);
        buf_puts(&body, "</domain>\n");
        char *h = buf_finish(&head), *t = buf_finish(&body);
        if (!h || !t) {
                free(h);
                free(t);
                return -ENOMEM;
        }
        snprintf(out->hash, sizeof(out->hash), "%016" PRIx64, fnv64(fnv64(FNV64_INIT, h), t));
        buf_puts(&all, h);
        buf_printf(&all, "  <metadata>\n    <%s:guest xmlns:%s='%s' hash='%s'/>\n  </metadata>\n",
                   NR_DOMAIN_XMLNS_PREFIX, NR_DOMAIN_XMLNS_PREFIX, NR_DOMAIN_XMLNS, out->hash);
        buf_puts(&all, t);
        free(h);
        free(t);
        out->xml = buf_finish(&all);
        return out->xml ? 0 : -ENOMEM;
}

void render_domain_free(struct nr_domain *d)
{
        free(d->xml);
        d->xml = NULL;
}

int domain_meta_hash(const char *meta, char out[17])
{
        const char *p = meta ? strstr(meta, "hash=") : NULL;
        if (!p || (p[5] != '"' && p[5] != '\''))
                return -ENOENT;
        p += 6;
        size_t n = strspn(p, "0123456789abcdef");
        if (n != 16 || p[n] != p[-1])
                return -ENOENT;
        memcpy(out, p, 16);
        out[16] = '\0';
        return 0;
}

void domain_console_path(const char *state_dir, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/console/%s.log", state_dir, name);
}

void domain_nvram_path(const char *state_dir, const struct nr_vm *vm, char *buf, size_t size)
{
        snprintf(buf, size, "%s/nvram/%s_VARS%s.fd", state_dir, vm->name,
                 vm->secure_boot ? ".ms" : "");
}

void domain_seed_path(const char *state_dir, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/cloud-init/%s.iso", state_dir, name);
}

void domain_blank_path(const char *state_dir, const char *name, size_t index, char *buf,
                       size_t size)
{
        if (index == 0)
                snprintf(buf, size, "%s/disks/%s.qcow2", state_dir, name);
        else
                snprintf(buf, size, "%s/disks/%s-disk%zu.qcow2", state_dir, name, index + 1);
}

void domain_import_path(const char *state_dir, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/disks/%s.qcow2", state_dir, name);
}

bool domain_needs_import(const struct nr_vm *vm)
{
        return vm->disk && vm->disk_format != NR_DISK_QCOW2;
}
