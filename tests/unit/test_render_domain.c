/* Domain XML for the vms: section (core/render/render_domain.c): the whole text against golden files in
 * tests/golden/domain/ (run from the repo root; NR_UPDATE_GOLDEN=1 rewrites them), the CPU
 * choice under KVM and TCG, the hash that tells a changed definition, the metadata that marks
 * nestrouter's domains, the stable UUID, and escaping. The VMs come from YAML through the real
 * parser and validation, so defaults (MACs, memory, CPU) are the ones users get. */
#include "golden_file.h"
#include "unit_helpers.h"

#include <errno.h>
#include <stdlib.h>

#include "core/render/render_domain.h"

#define GOLDEN_DIR "tests/golden/domain"

static const char *const base_yaml =
        "version: 1\n"
        "uplinks:\n"
        "  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
        "guests: {subnet: 10.0.2.0/24}\n"
        "vms:\n";

static const struct nr_vm *vms(const char *vms_yaml)
{
        char text[4096];
        snprintf(text, sizeof(text), "%s%s", base_yaml, vms_yaml);
        struct tcfg *t = check_text(text);
        expect_clean(t);
        assert_true(t->cfg.n_vms > 0);
        return t->cfg.vms;
}

static void golden(const char *name, const char *text)
{
        golden_check(GOLDEN_DIR, name, text, "the rendered XML", NULL);
}

static void render(const struct nr_vm *vm, enum nr_accel accel, const char *disk,
                   struct nr_domain *out)
{
        struct nr_domain_in in = {
                .vm = vm, .accel = accel, .bridge = "nr0",
                .console_path = "/var/lib/nestrouter/console/x.log", .disk_path = disk,
        };
        assert_int_equal(render_domain(&in, out), 0);
}

/* web1 of configs/vms.yaml: a qcow2 used as it is, host-model under KVM */
static void test_golden_kvm_host_model(void **state)
{
        struct nr_domain d;
        (void)state;
        const struct nr_vm *vm = vms("  - name: web1\n"
                                     "    disk: /var/lib/nestrouter/disks/web1.qcow2\n"
                                     "    vcpus: 2\n    memory: 2GiB\n"
                                     "    mac: \"52:54:00:00:00:10\"\n    ip: 10.0.2.10\n");
        render(vm, NR_ACCEL_KVM, vm->disk, &d);
        golden("web1-kvm.xml", d.xml);
        assert_string_equal(d.cpu, "host-model");
        assert_string_equal(d.note, "");
        assert_non_null(strstr(d.xml, "<domain type='kvm'>"));
        assert_non_null(strstr(d.xml, "<cpu mode='host-model' check='partial'/>"));
        render_domain_free(&d);
}

/* db1: a vhdx imported to disks/db1.qcow2; a pinned model under KVM and under TCG */
static void test_golden_named_model(void **state)
{
        struct nr_domain k, t;
        (void)state;
        const struct nr_vm *vm = vms("  - name: db1\n"
                                     "    disk: /srv/import/db1.vhdx\n"
                                     "    vcpus: 4\n    memory: 4GiB\n"
                                     "    cpu: Skylake-Client-noTSX-IBRS\n");
        assert_true(domain_needs_import(vm));
        render(vm, NR_ACCEL_KVM, "/var/lib/nestrouter/disks/db1.qcow2", &k);
        render(vm, NR_ACCEL_TCG, "/var/lib/nestrouter/disks/db1.qcow2", &t);
        golden("db1-kvm.xml", k.xml);
        golden("db1-tcg.xml", t.xml);
        assert_string_equal(k.cpu, "Skylake-Client-noTSX-IBRS");
        assert_string_equal(t.cpu, "Skylake-Client-noTSX-IBRS");
        assert_string_equal(t.note, "");
        /* KVM refuses a host that cannot give the model; TCG emulates what it can */
        assert_non_null(strstr(k.xml, "<cpu mode='custom' match='exact' check='partial'>"));
        assert_non_null(strstr(t.xml, "<cpu mode='custom' match='exact' check='none'>"));
        assert_non_null(strstr(t.xml, "<domain type='qemu'>"));
        assert_string_not_equal(k.hash, t.hash);
        render_domain_free(&k);
        render_domain_free(&t);
}

/* the test guest: direct kernel boot, no disk, host-passthrough falls back under TCG */
static void test_golden_kernel_tcg(void **state)
{
        struct nr_domain d;
        (void)state;
        const struct nr_vm *vm = vms("  - name: g1\n"
                                     "    kernel: /opt/guest/vmlinuz\n"
                                     "    initrd: /opt/guest/initrd.cpio.gz\n"
                                     "    cmdline: console=ttyS0 quiet nrtest=wait\n"
                                     "    memory: 128MiB\n    cpu: host-passthrough\n"
                                     "    ip: 10.0.2.21\n");
        assert_false(domain_needs_import(vm));
        render(vm, NR_ACCEL_TCG, NULL, &d);
        golden("g1-tcg-kernel.xml", d.xml);
        assert_string_equal(d.cpu, NR_TCG_CPU_MODEL);
        assert_string_equal(d.note, "host-passthrough needs KVM; under TCG the guest gets qemu64");
        assert_null(strstr(d.xml, "<disk"));
        assert_null(strstr(d.xml, "<graphics")); /* a kernel-booted guest talks on its serial */
        assert_null(strstr(d.xml, "<boot dev"));
        render_domain_free(&d);
}

static void test_host_model_tcg_note(void **state)
{
        struct nr_domain d;
        (void)state;
        const struct nr_vm *vm = vms("  - name: w\n    disk: /d/w.qcow2\n");
        render(vm, NR_ACCEL_TCG, vm->disk, &d);
        assert_string_equal(d.cpu, "qemu64");
        assert_string_equal(d.note, "host-model needs KVM; under TCG the guest gets qemu64");
        assert_non_null(strstr(d.xml, "<model fallback='forbid'>qemu64</model>"));
        render_domain_free(&d);
}

/* the hash covers everything but the metadata, and only changes with the definition */
static void test_hash(void **state)
{
        struct nr_domain a, b, c;
        (void)state;
        const struct nr_vm *vm = vms("  - name: w\n    disk: /d/w.qcow2\n    memory: 1GiB\n");
        render(vm, NR_ACCEL_KVM, vm->disk, &a);
        render(vm, NR_ACCEL_KVM, vm->disk, &b);
        assert_string_equal(a.hash, b.hash);
        assert_string_equal(a.xml, b.xml);
        assert_int_equal(strlen(a.hash), 16);
        struct nr_vm more = *vm;
        more.memory = 2ull << 30;
        render(&more, NR_ACCEL_KVM, vm->disk, &c);
        assert_string_not_equal(a.hash, c.hash);
        char meta[128], got[17];
        snprintf(meta, sizeof(meta), "<nestrouter:guest hash='%s'/>", c.hash);
        assert_non_null(strstr(c.xml, c.hash));
        /* what virDomainGetMetadata returns (libvirt rewrites the quotes and the prefix) */
        snprintf(meta, sizeof(meta), "<guest hash=\"%s\"/>", c.hash);
        assert_int_equal(domain_meta_hash(meta, got), 0);
        assert_string_equal(got, c.hash);
        assert_int_equal(domain_meta_hash("<guest/>", got), -ENOENT);
        assert_int_equal(domain_meta_hash("<guest hash='12'/>", got), -ENOENT);
        assert_int_equal(domain_meta_hash(NULL, got), -ENOENT);
        render_domain_free(&a);
        render_domain_free(&b);
        render_domain_free(&c);
}

static void test_uuid(void **state)
{
        char a[37], b[37], c[37];
        (void)state;
        domain_uuid("web1", a);
        domain_uuid("web1", b);
        domain_uuid("web2", c);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(strlen(a), 36);
        assert_int_equal(a[14], '8');                      /* version 8 */
        assert_non_null(strchr("89ab", a[19]));            /* variant 10 */
}

static void test_escaping(void **state)
{
        struct nr_domain d;
        (void)state;
        const struct nr_vm *vm = vms("  - name: e\n    kernel: /k/a&b<c>.img\n"
                                     "    cmdline: \"console=ttyS0 x='1' y=\\\"2\\\"\"\n");
        render(vm, NR_ACCEL_TCG, NULL, &d);
        assert_non_null(strstr(d.xml, "<kernel>/k/a&amp;b&lt;c&gt;.img</kernel>"));
        assert_non_null(strstr(d.xml, "<cmdline>console=ttyS0 x=&apos;1&apos; y=&quot;2&quot;</cmdline>"));
        render_domain_free(&d);
}

static void test_paths(void **state)
{
        char buf[128];
        struct nr_domain d;
        (void)state;
        domain_console_path("/var/lib/nestrouter", "web1", buf, sizeof(buf));
        assert_string_equal(buf, "/var/lib/nestrouter/console/web1.log");
        domain_import_path("/var/lib/nestrouter", "db1", buf, sizeof(buf));
        assert_string_equal(buf, "/var/lib/nestrouter/disks/db1.qcow2");
        const struct nr_vm *vm = vms("  - name: w\n    disk: /d/w.qcow2\n");
        struct nr_domain_in in = {.vm = vm, .accel = NR_ACCEL_AUTO, .bridge = "nr0",
                                  .console_path = "/c"};
        assert_int_equal(render_domain(&in, &d), -EINVAL); /* the probe decides first */
}

static void render_fw(const struct nr_vm *vm, enum nr_accel accel, const char *disk,
                      enum nr_firmware fw, struct nr_domain *out)
{
        char nvram[256];
        domain_nvram_path("/var/lib/nestrouter", vm, nvram, sizeof(nvram));
        struct nr_domain_in in = {
                .vm = vm, .accel = accel, .bridge = "nr0",
                .console_path = "/var/lib/nestrouter/console/x.log", .disk_path = disk,
                .firmware = fw, .nvram_path = nvram,
        };
        assert_int_equal(render_domain(&in, out), 0);
}

/* Windows 11: UEFI with Secure Boot (Microsoft's keys, SMM, q35), a TPM 2.0, the Hyper-V
 * enlightenments under KVM and none under TCG (with a note), SATA + e1000e */
static void test_golden_windows11(void **state)
{
        struct nr_domain k, t;
        (void)state;
        const struct nr_vm *vm = vms("  - name: w11\n"
                                     "    disk: /var/lib/nestrouter/disks/w11.qcow2\n"
                                     "    vcpus: 2\n    memory: 4GiB\n"
                                     "    firmware: uefi\n    secure_boot: true\n    tpm: true\n"
                                     "    os: windows\n    devices: compat\n");
        render_fw(vm, NR_ACCEL_KVM, vm->disk, NR_FW_UEFI, &k);
        render_fw(vm, NR_ACCEL_TCG, vm->disk, NR_FW_UEFI, &t);
        golden("w11-kvm.xml", k.xml);
        golden("w11-tcg.xml", t.xml);
        assert_string_equal(k.firmware, "uefi-secure-boot");
        assert_non_null(strstr(k.xml, "machine='q35'"));
        assert_non_null(strstr(k.xml, "<loader readonly='yes' secure='yes' type='pflash'>"
                                      NR_OVMF_CODE_SB "</loader>"));
        assert_non_null(strstr(k.xml, "<nvram template='" NR_OVMF_VARS_SB
                                      "'>/var/lib/nestrouter/nvram/w11_VARS.ms.fd</nvram>"));
        assert_non_null(strstr(k.xml, "<smm state='on'/>"));
        assert_non_null(strstr(k.xml, "<tpm model='tpm-crb'>"));
        assert_non_null(strstr(k.xml, "<target dev='sda' bus='sata'/>"));
        assert_non_null(strstr(k.xml, "<model type='e1000e'/>"));
        assert_non_null(strstr(k.xml, "<hyperv mode='custom'>"));
        assert_non_null(strstr(k.xml, "<timer name='hypervclock' present='yes'/>"));
        assert_non_null(strstr(k.xml, "<clock offset='localtime'>"));
        assert_string_equal(k.note, "");
        assert_null(strstr(t.xml, "<hyperv"));
        assert_null(strstr(t.xml, "hypervclock"));
        assert_non_null(strstr(t.xml, "<clock offset='localtime'>"));
        assert_string_equal(t.note, "the Hyper-V enlightenments need KVM; under TCG Windows runs "
                                    "without them; host-model needs KVM; under TCG the guest "
                                    "gets qemu64");
        render_domain_free(&k);
        render_domain_free(&t);
}

/* the UEFI test guest: OVMF boots the kernel directly (EFI stub), no Secure Boot, no SMM */
static void test_golden_uefi_kernel(void **state)
{
        struct nr_domain d;
        (void)state;
        const struct nr_vm *vm = vms("  - name: u1\n"
                                     "    kernel: /opt/guest/vmlinuz\n"
                                     "    initrd: /opt/guest/initrd.cpio.gz\n"
                                     "    cmdline: console=ttyS0\n"
                                     "    memory: 256MiB\n    cpu: qemu64\n"
                                     "    firmware: uefi\n    tpm: true\n");
        render_fw(vm, NR_ACCEL_TCG, NULL, NR_FW_UEFI, &d);
        golden("u1-tcg-uefi-kernel.xml", d.xml);
        assert_string_equal(d.firmware, "uefi");
        assert_non_null(strstr(d.xml, "<loader readonly='yes' secure='no' type='pflash'>"
                                      NR_OVMF_CODE "</loader>"));
        assert_non_null(strstr(d.xml, "/var/lib/nestrouter/nvram/u1_VARS.fd</nvram>"));
        assert_null(strstr(d.xml, "<smm"));
        assert_non_null(strstr(d.xml, "<kernel>/opt/guest/vmlinuz</kernel>"));
        render_domain_free(&d);
}

/* a Linux guest with compat devices on BIOS; BIOS + TPM gets TIS; firmware auto renders as
 * BIOS until decided; UEFI without an NVRAM path is a programmer error */
static void test_compat_and_fw_edges(void **state)
{
        struct nr_domain d;
        (void)state;
        const struct nr_vm *vm = vms("  - name: c1\n    disk: /d/c1.qcow2\n    devices: compat\n"
                                     "    tpm: true\n    firmware: auto\n");
        assert_int_equal(vm->firmware, NR_FW_AUTO);
        render_fw(vm, NR_ACCEL_TCG, vm->disk, NR_FW_AUTO, &d);
        golden("c1-tcg-compat.xml", d.xml);
        assert_string_equal(d.firmware, "bios");
        assert_non_null(strstr(d.xml, "machine='pc'"));
        assert_non_null(strstr(d.xml, "<tpm model='tpm-tis'>"));
        assert_non_null(strstr(d.xml, "<model type='e1000e'/>"));
        assert_null(strstr(d.xml, "<loader"));
        render_domain_free(&d);
        struct nr_domain_in in = {.vm = vm, .accel = NR_ACCEL_TCG, .bridge = "nr0",
                                  .console_path = "/c", .firmware = NR_FW_UEFI};
        assert_int_equal(render_domain(&in, &d), -EINVAL);
        char p[128];
        domain_nvram_path("/s", vm, p, sizeof(p));
        assert_string_equal(p, "/s/nvram/c1_VARS.fd");
}

/* an installation: a new blank disk, a second blank and an existing qcow2, two ISOs; the disks
 * boot first (a blank one is not bootable, so the firmware goes on to the cdrom) */
static void test_golden_iso_install(void **state)
{
        struct nr_domain d, v;
        (void)state;
        const struct nr_vm *vm = vms("  - name: inst\n    disk_size: 64GiB\n"
                                     "    disks: [/srv/data.qcow2, {size: 10GiB}]\n"
                                     "    cdrom: [/srv/iso/win11.iso, /srv/iso/virtio-win.iso]\n"
                                     "    firmware: uefi\n    devices: compat\n    os: windows\n");
        assert_int_equal(vm->disk_size, 64ull << 30);
        assert_int_equal(vm->n_disks, 2);
        assert_null(vm->disks[1].path);
        assert_int_equal(vm->disks[1].size, 10ull << 30);
        assert_int_equal(vm->n_cdroms, 2);
        char blank0[128], blank2[128];
        domain_blank_path("/var/lib/nestrouter", "inst", 0, blank0, sizeof(blank0));
        domain_blank_path("/var/lib/nestrouter", "inst", 2, blank2, sizeof(blank2));
        assert_string_equal(blank0, "/var/lib/nestrouter/disks/inst.qcow2");
        assert_string_equal(blank2, "/var/lib/nestrouter/disks/inst-disk3.qcow2");
        const char *more[] = {"/srv/data.qcow2", blank2};
        char nvram[128];
        domain_nvram_path("/var/lib/nestrouter", vm, nvram, sizeof(nvram));
        struct nr_domain_in in = {
                .vm = vm, .accel = NR_ACCEL_KVM, .bridge = "nr0",
                .console_path = "/var/lib/nestrouter/console/x.log", .disk_path = blank0,
                .more_disks = more, .n_more_disks = 2, .firmware = NR_FW_UEFI,
                .nvram_path = nvram,
        };
        assert_int_equal(render_domain(&in, &d), 0);
        golden("inst-kvm-iso.xml", d.xml);
        assert_null(strstr(d.xml, "<boot dev="));
        assert_non_null(strstr(d.xml, "<target dev='sda' bus='sata'/>\n      <boot order='1'/>"));
        assert_non_null(strstr(d.xml, "<target dev='sdc' bus='sata'/>\n    </disk>"));
        assert_non_null(strstr(d.xml, "<source file='/srv/iso/win11.iso'/>\n"
                                      "      <target dev='sdd' bus='sata'/>\n      <readonly/>\n"
                                      "      <boot order='2'/>"));
        assert_non_null(strstr(d.xml, "<boot order='3'/>"));
        /* virtio disks: vda, vdb, vdc; the cdroms still on SATA from sda */
        struct nr_vm vv = *vm;
        vv.devices = NR_DEVICES_VIRTIO;
        in.vm = &vv;
        assert_int_equal(render_domain(&in, &v), 0);
        assert_non_null(strstr(v.xml, "<target dev='vdc' bus='virtio'/>"));
        assert_non_null(strstr(v.xml, "<target dev='sda' bus='sata'/>\n      <readonly/>"));
        render_domain_free(&d);
        render_domain_free(&v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_golden_kvm_host_model), TEST(test_golden_named_model),
                TEST(test_golden_kernel_tcg),     TEST(test_host_model_tcg_note),
                TEST(test_hash),                  TEST(test_uuid),
                TEST(test_escaping),              TEST(test_paths),
                TEST(test_golden_windows11),      TEST(test_golden_uefi_kernel),
                TEST(test_compat_and_fw_edges),   TEST(test_golden_iso_install),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
