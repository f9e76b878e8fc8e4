/* cloud-init: the cloud_init: keys (inline or file, errors), the NoCloud meta-data whose
 * instance-id follows the data, and the seed in the domain XML (a read-only virtio disk, a SATA
 * cdrom with devices: compat; never booted). */
#include "golden_file.h"
#include "unit_helpers.h"

#include "core/render/cloud_init.h"
#include "core/render/render_domain.h"

#define HEAD "version: 1\nuplinks:\n  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n" \
             "guests: {subnet: 10.0.2.0/24}\nvms:\n"

static void test_keys(void **state)
{
        (void)state;
        struct tcfg *t = check_text(HEAD "  - name: u\n    disk: /d/u.qcow2\n    ip: 10.0.2.40\n"
                                         "    cloud_init:\n      user_data: |\n"
                                         "        #cloud-config\n        packages: [nginx]\n"
                                         "      network_config_file: /etc/n.yaml\n");
        expect_clean(t);
        const struct nr_cloud_init *ci = &t->cfg.vms[0].cloud_init;
        assert_true(ci->set);
        assert_string_equal(ci->user_data, "#cloud-config\npackages: [nginx]\n");
        assert_null(ci->user_data_file);
        assert_string_equal(ci->network_config_file, "/etc/n.yaml");
        static const struct bad bad[] = {
                {"  - name: u\n    disk: /d/u.qcow2\n    cloud_init: {network_config: x}\n", 8, 17,
                 "vms[0].cloud_init", "cloud_init needs user_data or user_data_file"},
                {"  - name: u\n    disk: /d/u.qcow2\n    cloud_init: {user_data: x, "
                 "user_data_file: /u}\n", 8, 17, "vms[0].cloud_init", "(one of them)"},
                {"  - name: u\n    disk: /d/u.qcow2\n    cloud_init: {user_data_file: u.yaml}\n",
                 8, 34, "vms[0].cloud_init.user_data_file", "is not an absolute path"},
                {"  - name: u\n    disk: /d/u.qcow2\n    cloud_init: {user_data: x, "
                 "network_config: y, network_config_file: /n}\n", 8, 17, "vms[0].cloud_init",
                 "network_config or network_config_file, not both"},
        };
        run_bad(HEAD, bad, sizeof(bad) / sizeof(*bad));
}

static void test_meta_data(void **state)
{
        struct nr_ci_seed a, b, c, d;
        (void)state;
        cloud_init_seed("web1", "#cloud-config\n", NULL, &a);
        cloud_init_seed("web1", "#cloud-config\n", NULL, &b);
        cloud_init_seed("web1", "#cloud-config\npackages: [x]\n", NULL, &c);
        cloud_init_seed("web1", "#cloud-config\n", "version: 2\n", &d);
        assert_string_equal(a.instance_id, b.instance_id);
        assert_string_not_equal(a.instance_id, c.instance_id); /* new data: a new instance */
        assert_string_not_equal(a.instance_id, d.instance_id);
        assert_int_equal(strncmp(a.instance_id, "nr-web1-", 8), 0);
        char want[128];
        snprintf(want, sizeof(want), "instance-id: %s\nlocal-hostname: web1\n", a.instance_id);
        assert_string_equal(a.meta_data, want);
}

static void test_seed_in_xml(void **state)
{
        struct nr_domain d;
        (void)state;
        struct tcfg *t = check_text(HEAD "  - name: ubuntu\n    base: /srv/golden/noble.qcow2\n"
                                         "    ip: 10.0.2.50\n    memory: 2GiB\n"
                                         "    cloud_init: {user_data_file: /srv/ci/ubuntu.yaml}\n");
        expect_clean(t);
        struct nr_domain_in in = {
                .vm = &t->cfg.vms[0], .accel = NR_ACCEL_KVM, .bridge = "nr0",
                .console_path = "/var/lib/nestrouter/console/x.log",
                .disk_path = "/var/lib/nestrouter/disks/ubuntu.qcow2",
                .seed_path = "/var/lib/nestrouter/cloud-init/ubuntu.iso",
                .firmware = NR_FW_BIOS,
        };
        assert_int_equal(render_domain(&in, &d), 0);
        golden_check("tests/golden/domain", "ubuntu-kvm-cloud-init.xml", d.xml, "the rendered XML",
                     NULL);
        /* Debian's cloud kernel has no AHCI: the seed is a virtio disk, not a SATA cdrom */
        assert_non_null(strstr(d.xml, "<source file='/var/lib/nestrouter/cloud-init/ubuntu.iso'/>\n"
                                      "      <target dev='vdb' bus='virtio'/>\n      <readonly/>\n"
                                      "    </disk>"));
        assert_null(strstr(d.xml, "device='cdrom'"));
        assert_non_null(strstr(d.xml, "<boot dev='hd'/>"));
        char p[128];
        domain_seed_path("/s", "ubuntu", p, sizeof(p));
        assert_string_equal(p, "/s/cloud-init/ubuntu.iso");
        render_domain_free(&d);
}

static void test_seed_compat(void **state)
{
        struct nr_domain d;
        (void)state;
        struct tcfg *t = check_text(HEAD "  - name: w\n    disk: /d/w.qcow2\n    devices: compat\n"
                                         "    cloud_init: {user_data: x}\n");
        expect_clean(t);
        struct nr_domain_in in = {
                .vm = &t->cfg.vms[0], .accel = NR_ACCEL_TCG, .bridge = "nr0",
                .console_path = "/c/w.log", .disk_path = "/d/w.qcow2",
                .seed_path = "/s/cloud-init/w.iso", .firmware = NR_FW_BIOS,
        };
        assert_int_equal(render_domain(&in, &d), 0);
        /* no virtio drivers: the disk and the seed are SATA (sda, sdb) */
        assert_non_null(strstr(d.xml, "<target dev='sda' bus='sata'/>"));
        assert_non_null(strstr(d.xml, "<disk type='file' device='cdrom'>\n"
                                      "      <driver name='qemu' type='raw'/>\n"
                                      "      <source file='/s/cloud-init/w.iso'/>\n"
                                      "      <target dev='sdb' bus='sata'/>\n      <readonly/>\n"));
        assert_null(strstr(d.xml, "bus='virtio'/>"));
        render_domain_free(&d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {TEST(test_keys), TEST(test_meta_data),
                                           TEST(test_seed_in_xml), TEST(test_seed_compat)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
