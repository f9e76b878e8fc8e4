/* `nestrouterctl doctor`'s host rows: the appliance image's build, KVM for the nested guests, Secure Boot and the vTPM, and
 * the security type they imply. Azure shows a Trusted Launch VM only as UEFI with Secure Boot
 * and a TPM, and a Standard VM as neither (docs/azure.md §3.1, §10.2). Self-contained: the rest
 * of the doctor only calls doctor_host(). */
#include "ctl/doctor_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum dh_result {
        DH_RESULT_OK,
        DH_RESULT_WARN,
        DH_RESULT_FAIL,
};

/* what the files say; read once, then reported */
struct dh_host {
        bool efi;            /* booted by UEFI (/sys/firmware/efi) */
        int secure_boot;     /* 1 on, 0 off, -1 UEFI without a readable SecureBoot variable */
        bool tpm;            /* /sys/class/tpm/tpm0 or /dev/tpm0 */
        int tpm_major;       /* 1 or 2; 0 unknown */
        bool kvm_present;    /* /dev/kvm exists */
        int kvm_err;         /* 0: it opens read-write; else errno */
        bool vmx, svm, slat; /* CPU flags: VT-x, AMD-V, EPT/NPT */
        int nested;          /* kvm_intel/kvm_amd nested: 1, 0, -1 not loaded */
};

static void row(struct dr_host_counts *n, const char *check, enum dh_result r, const char *detail,
                const char *fix)
{
        static const char *const words[] = {"ok", "WARN", "FAIL"};
        printf("%-26s %-5s %s\n", check, words[r], detail);
        if (fix && r != DH_RESULT_OK)
                printf("%-26s       fix: %s\n", "", fix);
        n->fails += r == DH_RESULT_FAIL;
        n->warns += r == DH_RESULT_WARN;
}

static const char *at(char *buf, size_t len, const char *rel)
{
        const char *root = getenv("NR_DOCTOR_ROOT");
        snprintf(buf, len, "%s%s", root ? root : "", rel);
        return buf;
}

static bool exists(const char *rel)
{
        char p[512];
        struct stat st;
        return stat(at(p, sizeof(p), rel), &st) == 0;
}

int doctor_read_flag(const char *path)
{
        char buf[16] = "";
        FILE *f = fopen(path, "r");
        if (!f)
                return -1;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        return buf[0] == 'Y' || buf[0] == 'y' ? 1 : buf[0] == 'N' ? 0 : atoi(buf);
}

/* doctor_read_flag under NR_DOCTOR_ROOT */
static int read_int(const char *rel)
{
        char p[512];
        return doctor_read_flag(at(p, sizeof(p), rel));
}

static bool cpu_flag(const char *flag)
{
        char p[512], line[4096];
        FILE *f = fopen(at(p, sizeof(p), "/proc/cpuinfo"), "r");
        bool found = false;
        size_t n = strlen(flag);
        while (f && !found && fgets(line, sizeof(line), f)) {
                if (strncmp(line, "flags", 5))
                        continue;
                for (char *q = strstr(line, flag); q && !found; q = strstr(q + 1, flag))
                        found = q[-1] == ' ' && (q[n] == ' ' || q[n] == '\n');
        }
        if (f)
                fclose(f);
        return found;
}

/* UEFI Secure Boot: the last byte of the SecureBoot variable (after 4 bytes of attributes) */
static int secure_boot_state(void)
{
        char p[512];
        unsigned char b[5];
        int fd = open(at(p, sizeof(p), "/sys/firmware/efi/efivars/"
                                       "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"),
                      O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, b, sizeof(b));
        close(fd);
        return n == (ssize_t)sizeof(b) ? b[4] == 1 : -1;
}

static void probe(struct dh_host *h)
{
        char p[512];
        h->efi = exists("/sys/firmware/efi");
        h->secure_boot = h->efi ? secure_boot_state() : -1;
        h->tpm = exists("/sys/class/tpm/tpm0") || exists("/dev/tpm0");
        h->tpm_major = read_int("/sys/class/tpm/tpm0/tpm_version_major");
        h->tpm_major = h->tpm_major == 1 || h->tpm_major == 2 ? h->tpm_major : 0;
        h->kvm_present = exists("/dev/kvm");
        int fd = open(at(p, sizeof(p), "/dev/kvm"), O_RDWR | O_CLOEXEC);
        h->kvm_err = fd < 0 ? errno : 0;
        if (fd >= 0)
                close(fd);
        h->vmx = cpu_flag("vmx");
        h->svm = cpu_flag("svm");
        h->slat = h->vmx ? cpu_flag("ept") : h->svm && cpu_flag("npt");
        h->nested = read_int(h->vmx ? "/sys/module/kvm_intel/parameters/nested"
                                    : "/sys/module/kvm_amd/parameters/nested");
}

/* KEY=value from the appliance image's build record, "?" when absent */
static void build_field(const char *text, const char *key, char *out, size_t len)
{
        size_t n = strlen(key);
        snprintf(out, len, "?");
        for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0')) {
                if (!strncmp(l, key, n) && l[n] == '=') {
                        snprintf(out, len, "%.*s", (int)strcspn(l + n + 1, "\n"), l + n + 1);
                        return;
                }
        }
}

/* the appliance image this OS disk came from (image/overlay.sh writes the record): which build,
 * so that an operator can tell an upgraded VM from its old image. No row outside the image. */
static void image_row(struct dr_host_counts *n)
{
        char p[512], text[2048], id[64], pkg[128], built[64], detail[400];
        FILE *f = fopen(at(p, sizeof(p), "/usr/share/nestrouter-build"), "r");
        if (!f)
                return;
        size_t len = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[len] = '\0';
        build_field(text, "build_id", id, sizeof(id));
        build_field(text, "package", pkg, sizeof(pkg));
        build_field(text, "built", built, sizeof(built));
        snprintf(detail, sizeof(detail), "%s, built %s, build id %s", pkg, built, id);
        row(n, "image", DH_RESULT_OK, detail, NULL);
}

static void kvm_rows(const struct dh_host *h, enum dh_result bad, const char *accel,
                     const char *accel_reason, struct dr_host_counts *n)
{
        char detail[400];
        snprintf(detail, sizeof(detail), "%s%s", h->kvm_err ? "/dev/kvm: " : "/dev/kvm usable",
                 h->kvm_err ? strerror(h->kvm_err) : "");
        row(n, "/dev/kvm", h->kvm_err ? bad : DH_RESULT_OK, detail,
            "guests run with TCG (slow); use a VM size with nested virtualisation "
            "(Dv3/Dv4/Dv5, Ev3+) and load kvm_intel or kvm_amd");
        bool virt = h->vmx || h->svm;
        snprintf(detail, sizeof(detail), "%s%s", h->vmx ? "VT-x" : h->svm ? "AMD-V" : "no VT-x/AMD-V",
                 virt ? (h->slat ? (h->vmx ? " with EPT" : " with NPT") : " without SLAT") : "");
        row(n, "CPU virtualisation", virt && h->slat ? DH_RESULT_OK : bad, detail,
            "the VM size does not pass virtualisation through: resize to one that supports "
            "nested virtualisation");
        snprintf(detail, sizeof(detail), "nested KVM %s",
                 h->nested == 1 ? "enabled" : h->nested == 0 ? "disabled" : "not loaded");
        row(n, "nested KVM", h->nested == 1 ? DH_RESULT_OK : bad, detail,
            "modprobe kvm_intel nested=1 (or kvm_amd nested=1); persist in "
            "/etc/modprobe.d/kvm.conf");
        if (accel && accel[0]) {
                snprintf(detail, sizeof(detail), "nestrouterd's probe: %s%s%s", accel,
                         accel_reason && accel_reason[0] ? ": " : "",
                         accel_reason ? accel_reason : "");
                row(n, "KVM probe", strcmp(accel, "kvm") ? bad : DH_RESULT_OK, detail,
                    "a real guest could not run under KVM: the guests use TCG (see the "
                    "checks above and `nestrouterctl status`)");
        }
}

static void security_rows(const struct dh_host *h, enum dh_result bad, struct dr_host_counts *n)
{
        char detail[400];
        row(n, "Secure Boot", DH_RESULT_OK,
            !h->efi                ? "no UEFI: a BIOS boot (Azure Generation 1)"
            : h->secure_boot == 1  ? "on (UEFI): the firmware ran signed boot code only"
            : h->secure_boot == 0  ? "off (UEFI)"
                                   : "UEFI, state unknown (no SecureBoot variable in efivarfs)",
            NULL);
        snprintf(detail, sizeof(detail), "%s%s", h->tpm ? "present: tpm0" : "absent",
                 !h->tpm ? "" : h->tpm_major == 2 ? ", TPM 2.0" : h->tpm_major == 1 ? ", TPM 1.2" : "");
        row(n, "vTPM", DH_RESULT_OK, detail, NULL);
        /* Azure gives Secure Boot and a vTPM only to Trusted Launch and Confidential VMs */
        bool tl = h->tpm || h->secure_boot == 1;
        bool kvm = h->kvm_err == 0, virt = h->vmx || h->svm;
        enum dh_result r = DH_RESULT_OK;
        const char *fix = NULL;
        snprintf(detail, sizeof(detail), "%s; /dev/kvm %s",
                 tl ? "Trusted Launch (or Confidential VM): Secure Boot or a vTPM"
                    : "Standard: no Secure Boot, no vTPM",
                 kvm ? "usable" : h->kvm_present ? "not usable" : "missing");
        if (tl && !kvm) {
                r = bad;
                fix = "Trusted Launch is on and /dev/kvm is missing or unusable: Microsoft's "
                      "nested-virtualization guide asks for the Standard security type, and its "
                      "Trusted Launch page has limited nesting to some sizes: check both pages "
                      "for this size, or re-create the VM as Standard (configs/azure/deploy.sh "
                      "without --security-type TrustedLaunch; docs/azure.md §3.1)";
        } else if (!virt) {
                r = bad;
                fix = "no virtualisation flags: pick a size whose page says \"Nested "
                      "Virtualization: Supported\" (docs/azure.md §3.1)";
        }
        row(n, "security type", r, detail, fix);
}

void doctor_host(bool want_kvm, const char *accel, const char *accel_reason,
                 struct dr_host_counts *n)
{
        struct dh_host h = {0};
        enum dh_result bad = want_kvm ? DH_RESULT_FAIL : DH_RESULT_WARN;
        probe(&h);
        image_row(n);
        kvm_rows(&h, bad, accel, accel_reason, n);
        security_rows(&h, bad, n);
        if (h.kvm_err || !(h.vmx || h.svm))
                printf("%-26s       guests will run with TCG%s\n", "",
                       want_kvm ? ", but libvirt.accel is kvm" : "");
}
