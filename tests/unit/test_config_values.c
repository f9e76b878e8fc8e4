/* Parser tests for single values: durations, sizes, MACs, strict IPv4 addresses and prefixes,
 * interface and host names, ports and other numbers. Each accepted form is read to the right
 * value; each rejected one is an error at its line:column and key path with a useful message. */
#include "unit_helpers.h"

#include <errno.h>

#include "core/config/yamlval.h"

static void test_durations(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                uint32_t secs;
        } ok[] = {
                {"12h", 43200}, {"30m", 1800}, {"1d", 86400},     {"1h30m", 5400},
                {"3600", 3600}, {"2m", 120},   {"infinite", 0},   {"1d12h", 129600},
                {"120s", 120},
        };
        char tail[128];
        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                snprintf(tail, sizeof(tail), "  dhcp:\n    lease_time: %s\n", ok[i].s);
                struct tcfg *t = parse_with(BASE_G, tail);
                if (t->parse_r < 0)
                        dump_diags(&t->d);
                assert_int_equal(t->parse_r, 0);
                assert_int_equal(t->cfg.guests.dhcp.lease_time, ok[i].secs);
        }
        static const struct bad bad[] = {
                {"  dhcp:\n    lease_time: 12x\n", 9, 17, "guests.dhcp.lease_time",
                 "'12x' is not a duration (like 12h, 30m, 1d, 1h30m, 3600 or infinite)"},
                {"  dhcp:\n    lease_time: 1h30\n", 9, 17, "guests.dhcp.lease_time",
                 "'1h30' is not a duration"},
                {"  dhcp:\n    lease_time: 1m\n", 9, 17, "guests.dhcp.lease_time",
                 "at least 2m"},
                {"  dhcp:\n    lease_time: 119\n", 9, 17, "guests.dhcp.lease_time",
                 "at least 2m"},
                {"  dhcp:\n    lease_time: h\n", 9, 17, "guests.dhcp.lease_time",
                 "is not a duration"},
                {"  dhcp:\n    lease_time: -5m\n", 9, 17, "guests.dhcp.lease_time",
                 "is not a duration"},
                {"  dhcp:\n    lease_time: 99999999d\n", 9, 17, "guests.dhcp.lease_time",
                 "too long"},
        };
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));

        uint32_t v;
        assert_int_equal(yv_parse_duration("1h30m", &v), 0);
        assert_int_equal(v, 5400);
        assert_int_equal(yv_parse_duration("", &v), -EINVAL);
        assert_int_equal(yv_parse_duration("12 h", &v), -EINVAL);
}

static void test_sizes(void **state)
{
        (void)state;
        static const struct {
                const char *s;
                uint64_t bytes;
        } ok[] = {
                {"2GiB", 2ull << 30}, {"512MiB", 512ull << 20}, {"4G", 4ull << 30},
                {"16MiB", 16ull << 20}, {"1048576KiB", 1ull << 30}, {"1T", 1ull << 40},
        };
        char tail[160];
        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                snprintf(tail, sizeof(tail),
                         "vms:\n  - name: a\n    disk: /d/a.qcow2\n    memory: %s\n", ok[i].s);
                struct tcfg *t = parse_with(BASE_G, tail);
                if (t->parse_r < 0)
                        dump_diags(&t->d);
                assert_int_equal(t->parse_r, 0);
                assert_int_equal(t->cfg.vms[0].memory, ok[i].bytes);
        }
#define VM_MEM(x) "vms:\n  - name: a\n    disk: /d/a.qcow2\n    memory: " x "\n"
        static const struct bad bad[] = {
                {VM_MEM("2GB"), 11, 13, "vms[0].memory", "sizes are binary here; write 2GiB"},
                {VM_MEM("512MB"), 11, 13, "vms[0].memory", "write 512MiB"},
                {VM_MEM("0"), 11, 13, "vms[0].memory", "at least 16MiB"},
                {VM_MEM("1000"), 11, 13, "vms[0].memory",
                 "'1000' is not a size with a unit (like 2GiB, 512MiB or 4G)"},
                {VM_MEM("15MiB"), 11, 13, "vms[0].memory", "at least 16MiB"},
                {VM_MEM("16385KiB"), 11, 13, "vms[0].memory", "whole number of MiB"},
                {VM_MEM("2gib"), 11, 13, "vms[0].memory", "is not a size"},
                {VM_MEM("GiB"), 11, 13, "vms[0].memory", "is not a size"},
                {VM_MEM("99999999999999T"), 11, 13, "vms[0].memory", "too large"},
        };
#undef VM_MEM
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
}

/* MACs with ':' or '-'; multicast, all-zero and short ones are errors. */
static void test_macs(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_G, "  dhcp:\n    reservations:\n"
                                            "      - {mac: \"52:54:00:AB:cd:EF\", ip: 10.0.2.10}\n"
                                            "      - {mac: 52-54-00-00-00-11, ip: 10.0.2.11}\n");
        assert_int_equal(t->parse_r, 0);
        assert_mac(t->cfg.guests.dhcp.reservations[0].mac, 0x52, 0x54, 0, 0xab, 0xcd, 0xef);
        assert_mac(t->cfg.guests.dhcp.reservations[1].mac, 0x52, 0x54, 0, 0, 0, 0x11);
#define RES_MAC(x) "  dhcp:\n    reservations:\n      - {mac: " x ", ip: 10.0.2.10}\n"
        static const struct bad bad[] = {
                {RES_MAC("\"01:00:5e:00:00:01\""), 10, 15, "guests.dhcp.reservations[0].mac",
                 "is a multicast address"},
                {RES_MAC("\"00:00:00:00:00:00\""), 10, 15, "guests.dhcp.reservations[0].mac",
                 "not a usable MAC address"},
                {RES_MAC("\"52:54:00:00:00\""), 10, 15, "guests.dhcp.reservations[0].mac",
                 "'52:54:00:00:00' is not a MAC address"},
                {RES_MAC("\"52:54:00-00:00:01\""), 10, 15, "guests.dhcp.reservations[0].mac",
                 "is not a MAC address"},
                {RES_MAC("\"52:54:00:00:00:1g\""), 10, 15, "guests.dhcp.reservations[0].mac",
                 "is not a MAC address"},
                {RES_MAC("\"52:54:0:0:0:1\""), 10, 15, "guests.dhcp.reservations[0].mac",
                 "is not a MAC address"},
        };
#undef RES_MAC
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
}

static void test_strict_ips(void **state)
{
        (void)state;
#define RES_IP(x) "  dhcp:\n    reservations:\n      - {mac: \"52:54:00:00:00:10\", ip: " x "}\n"
        static const struct bad bad[] = {
                {RES_IP("10.0.2.01"), 10, 40, "guests.dhcp.reservations[0].ip",
                 "'10.0.2.01' is not an IPv4 address"},
                {RES_IP("256.0.0.1"), 10, 40, "guests.dhcp.reservations[0].ip",
                 "'256.0.0.1' is not an IPv4 address"},
                {RES_IP("10.0.2"), 10, 40, "guests.dhcp.reservations[0].ip",
                 "'10.0.2' is not an IPv4 address"},
                {RES_IP("10.0.2.1.5"), 10, 40, "guests.dhcp.reservations[0].ip",
                 "is not an IPv4 address"},
                {RES_IP("10.0.2.0/24"), 10, 40, "guests.dhcp.reservations[0].ip",
                 "is not an IPv4 address"},
        };
#undef RES_IP
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
        uint32_t a;
        assert_int_equal(ip_parse("0.0.0.0", &a), 0);
        assert_int_equal(ip_parse("255.255.255.255", &a), 0);
        assert_int_equal(a, 0xffffffffu);
        assert_true(ip_parse("1.2.3.4 ", &a) < 0);
        assert_true(ip_parse("+1.2.3.4", &a) < 0);
}

static void test_prefixes(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_U, "    routes: [0.0.0.0/0, 10.9.9.9/32]\n");
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->cfg.uplinks[0].routes[0].len, 0);
        assert_int_equal(t->cfg.uplinks[0].routes[1].addr, IP(10, 9, 9, 9));
        assert_int_equal(t->cfg.uplinks[0].routes[1].len, 32);
        static const struct bad bad[] = {
                {"    routes: [172.16.0.1]\n", 8, 14, "uplinks.nat.routes[0]",
                 "'172.16.0.1' has no prefix length (like 172.16.0.1/24; /32 is one host)"},
                {"    routes: [10.0.0.0/33]\n", 8, 14, "uplinks.nat.routes[0]",
                 "'10.0.0.0/33' is not an IPv4 prefix"},
                {"    routes: [10.0.0.0/22, 172.16.0.1/22]\n", 8, 27, "uplinks.nat.routes[1]",
                 "172.16.0.1/22 has host bits set (did you mean 172.16.0.0/22?)"},
                {"    routes: [10.0.0.0/]\n", 8, 14, "uplinks.nat.routes[0]",
                 "is not an IPv4 prefix"},
                {"    routes: [10.0.0.0/08]\n", 8, 14, "uplinks.nat.routes[0]",
                 "is not an IPv4 prefix"},
                {"    routes: [10.0.0/8]\n", 8, 14, "uplinks.nat.routes[0]",
                 "is not an IPv4 prefix"},
        };
        run_bad(BASE_U, bad, sizeof(bad) / sizeof(*bad));

        /* guests.subnet: host bits, missing length, and sizes a bridge subnet cannot have */
        static const struct bad sub[] = {
                {"guests:\n  subnet: 10.0.2.1/24\n", 9, 11, "guests.subnet",
                 "10.0.2.1/24 has host bits set (did you mean 10.0.2.0/24?)"},
                {"guests:\n  subnet: 10.0.2.0\n", 9, 11, "guests.subnet",
                 "has no prefix length"},
                {"guests:\n  subnet: 10.0.2.0/31\n", 9, 11, "guests.subnet", "/8 to /30"},
        };
        run_bad("version: 1\nuplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                "# guests below\n"
                "# ...\n"
                "# ...\n"
                "# ...\n"
                "# ...\n",
                sub, sizeof(sub) / sizeof(*sub));
}

static void test_interface_names(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_G, "  bridge: abcdefghijklmno\n");
        assert_int_equal(t->parse_r, 0);
        assert_string_equal(t->cfg.guests.bridge, "abcdefghijklmno");
        static const struct bad bad[] = {
                {"  bridge: abcdefghijklmnop\n", 8, 11, "guests.bridge",
                 "'abcdefghijklmnop' is 16 bytes long; interface names have at most 15"},
                {"  bridge: br/0\n", 8, 11, "guests.bridge", "is not a valid interface name"},
                {"  bridge: br:0\n", 8, 11, "guests.bridge", "is not a valid interface name"},
                {"  bridge: br 0\n", 8, 11, "guests.bridge", "'br 0' is not a valid interface"},
                {"  bridge: \"..\"\n", 8, 11, "guests.bridge", "is not a valid interface name"},
                {"  ports: [eth1, a/b]\n", 8, 17, "guests.ports[1]",
                 "is not a valid interface name"},
        };
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
        t = parse_text("version: 1\nuplinks:\n  nat:\n    match: {name: eth0:1}\n"
                       "    address: 10.0.0.4/24\nguests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 4, 19, "uplinks.nat.match.name", "is not a valid interface name");
}

static void test_ports_and_numbers(void **state)
{
        (void)state;
        static const struct bad bad[] = {
                {"port_forwards:\n  - {port: 0, to: 10.0.2.5}\n", 9, 12, "port_forwards[0].port",
                 "0 is out of range (1 to 65535)"},
                {"port_forwards:\n  - {port: 65536, to: 10.0.2.5}\n", 9, 12,
                 "port_forwards[0].port", "65536 is out of range"},
                {"port_forwards:\n  - {port: 80, to: 10.0.2.5, to_port: 0}\n", 9, 39,
                 "port_forwards[0].to_port", "out of range"},
                {"port_forwards:\n  - {port: 08, to: 10.0.2.5}\n", 9, 12, "port_forwards[0].port",
                 "expected a whole number, got '08'"},
                {"port_forwards:\n  - {port: 80, to: 10.0.2.5, proto: sctp}\n", 9, 37,
                 "port_forwards[0].proto", "proto must be tcp or udp, not 'sctp'"},
                {"  mtu: 500\n", 8, 8, "guests.mtu", "500 is out of range (576 to 65535)"},
                {"router: {route_protocol: 4}\n", 8, 26, "router.route_protocol",
                 "reserved by the kernel"},
                {"router: {rule_priority: 32767}\n", 8, 25, "router.rule_priority",
                 "out of range"},
                {"vms:\n  - {name: a, disk: /a.qcow2, vcpus: 513}\n", 9, 38, "vms[0].vcpus",
                 "513 is out of range (1 to 512)"},
        };
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
        static const struct bad up[] = {
                {"    table: 254\n", 8, 12, "uplinks.nat.table", "the kernel's main table"},
                {"    table: 0\n", 8, 12, "uplinks.nat.table", "out of range"},
        };
        run_bad(BASE_U, up, sizeof(up) / sizeof(*up));
        /* a /31 uplink address leaves no room for a gateway; network/broadcast are not hosts */
        struct tcfg *t = parse_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                                    "  nat: {match: {name: eth0}, address: 10.0.0.4/31}\n"
                                    "  lan: {match: {name: eth1}, address: 10.0.1.255/24}\n");
        expect_error(t, 4, 39, "uplinks.nat.address", "prefix length /31");
        expect_error(t, 5, 39, "uplinks.lan.address",
                     "10.0.1.255/24 is the broadcast address of its subnet");
}

static void test_match_name_or_mac(void **state)
{
        (void)state;
        struct tcfg *t = parse_text(
                "version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                "  nat: {match: {name: eth0, mac: \"00:0d:3a:00:00:01\"}, address: 10.0.0.4/24}\n"
                "  lan: {match: {}, address: 10.0.1.4/24, routes: [10.0.0.0/22]}\n");
        expect_error(t, 4, 16, "uplinks.nat.match", "give one of name, mac, azure or azure_subnet, not several");
        expect_error(t, 5, 16, "uplinks.lan.match", "needs name, mac, azure: primary or azure_subnet");
}

static void test_vm_values(void **state)
{
        (void)state;
        static const struct bad bad[] = {
                {"vms:\n  - {name: a, disk: a.qcow2}\n", 9, 21, "vms[0].disk",
                 "'a.qcow2' is not an absolute path"},
                {"vms:\n  - {name: a, disk: /d/a.iso}\n", 9, 21, "vms[0].disk",
                 "cannot tell the disk format"},
                {"vms:\n  - {name: a, disk: /d/a.qcow2, format: vmdk}\n", 9, 41, "vms[0].format",
                 "format must be qcow2, raw, vhd or vhdx, not 'vmdk'"},
                {"vms:\n  - {name: -a, disk: /d/a.qcow2}\n", 9, 12, "vms[0].name",
                 "'-a' is not a valid"},
                {"vms:\n  - {name: a b, disk: /d/a.qcow2}\n", 9, 12, "vms[0].name",
                 "'a b' is not a valid"},
                {"vms:\n  - {name: a, disk: /d/a.qcow2, cpu: \"Sky lake\"}\n", 9, 38, "vms[0].cpu",
                 "'Sky lake' is not a"},
        };
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
        struct tcfg *t = parse_with(BASE_G, "vms:\n  - {name: a, disk: /d/a.iso, format: raw}\n"
                                            "  - {name: b, disk: /d/b.img}\n");
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->cfg.vms[0].disk_format, NR_DISK_RAW);
        assert_int_equal(t->cfg.vms[1].disk_format, NR_DISK_RAW);
}

/* Key order inside a mapping does not matter: `format:` before `disk:` still wins. */
static void test_vm_format_before_disk(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "vms:\n"
                                           "  - {name: a, format: qcow2, disk: /d/a.img}\n"
                                           "  - {name: b, format: raw, disk: /d/b.iso}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.vms[0].disk_format, NR_DISK_QCOW2);
        assert_int_equal(t->cfg.vms[1].disk_format, NR_DISK_RAW);
}

/* firmware, secure_boot, tpm, os, devices: defaults, values, and errors at the value */
static void test_vm_firmware_keys(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_G, "vms:\n  - name: a\n    disk: /d/a.qcow2\n");
        assert_int_equal(t->parse_r, 0);
        const struct nr_vm *vm = &t->cfg.vms[0];
        assert_int_equal(vm->firmware, NR_FW_AUTO);
        assert_false(vm->secure_boot);
        assert_false(vm->tpm);
        assert_int_equal(vm->os, NR_OS_LINUX);
        assert_int_equal(vm->devices, NR_DEVICES_VIRTIO);
        t = parse_with(BASE_G, "vms:\n  - name: a\n    disk: /d/a.qcow2\n    firmware: uefi\n"
                               "    secure_boot: true\n    tpm: true\n    os: windows\n"
                               "    devices: compat\n");
        assert_int_equal(t->parse_r, 0);
        vm = &t->cfg.vms[0];
        assert_int_equal(vm->firmware, NR_FW_UEFI);
        assert_true(vm->secure_boot && vm->tpm);
        assert_int_equal(vm->os, NR_OS_WINDOWS);
        assert_int_equal(vm->devices, NR_DEVICES_COMPAT);
        t = parse_with(BASE_G, "vms:\n  - name: a\n    disk_size: 8GiB\n    cdrom: /i/x.iso\n");
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->cfg.vms[0].disk_size, 8ull << 30);
        assert_int_equal(t->cfg.vms[0].n_cdroms, 1);
        assert_string_equal(t->cfg.vms[0].cdroms[0], "/i/x.iso");
        t = parse_with(BASE_G, "vms:\n  - name: a\n    cdrom: [/i/live.iso]\n");
        assert_int_equal(t->parse_r, 0); /* a live ISO alone */
#define VM_KEY(k, x) "vms:\n  - name: a\n    disk: /d/a.qcow2\n    " k ": " x "\n"
        static const struct bad bad[] = {
                {VM_KEY("firmware", "efi"), 11, 15, "vms[0].firmware",
                 "must be auto, bios or uefi, not 'efi'"},
                {VM_KEY("os", "win11"), 11, 9, "vms[0].os", "must be linux or windows"},
                {VM_KEY("devices", "ide"), 11, 14, "vms[0].devices", "must be virtio or compat"},
                {VM_KEY("tpm", "2.0"), 11, 10, "vms[0].tpm", "true or false"},
                {"vms:\n  - name: a\n    disk: /d/a.qcow2\n    firmware: bios\n"
                 "    secure_boot: true\n", 12, 18, "vms[0].secure_boot",
                 "Secure Boot needs UEFI firmware (firmware: uefi or auto), not bios"},
                {VM_KEY("base", "/srv/golden.qcow2"), 11, 11, "vms[0].base",
                 "base makes the VM's disk an overlay of it; it cannot go with disk: or "
                 "disk_size:"},
                {VM_KEY("disk_size", "10GiB"), 11, 16, "vms[0].disk_size",
                 "disk_size makes a new blank disk; it cannot go with disk:"},
                {"vms:\n  - name: a\n    disk_size: 1500KiB\n", 10, 16, "vms[0].disk_size",
                 "a disk size is a whole number of MiB, at least 1MiB"},
                {VM_KEY("disks", "[/d/b.vhdx]"), 11, 13, "vms[0].disks[0]",
                 "more disks must be .qcow2 files"},
                {VM_KEY("disks", "[{sise: 1GiB}]"), 11, 13, "vms[0].disks[0]", "size"},
                {VM_KEY("cdrom", "iso/a.iso"), 11, 12, "vms[0].cdrom",
                 "'iso/a.iso' is not an absolute path"},
                {VM_KEY("cdrom", "[/a.iso, b.iso]"), 11, 21, "vms[0].cdrom[1]",
                 "'b.iso' is not an absolute path"},
                {"vms:\n  - name: a\n    memory: 1GiB\n", 9, 5, "vms[0]",
                 "needs a disk, a base, a disk_size (a new blank disk), a cdrom or a kernel"},
        };
#undef VM_KEY
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
}

/* The hand-written formatters say what printf would. */
static void test_formatters(void **state)
{
        (void)state;
        uint32_t a = 0x01020304u;
        for (int i = 0; i < 20000; i++) {
                char want[32];
                uint8_t m[6] = {(uint8_t)a, (uint8_t)(a >> 8), (uint8_t)(a >> 16), (uint8_t)(a >> 24),
                                (uint8_t)i, (uint8_t)(i >> 8)};
                struct nr_prefix p = {a, (uint8_t)(i % 33)};
                snprintf(want, sizeof(want), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                         (a >> 8) & 255, a & 255);
                assert_string_equal(ip_s(a).s, want);
                snprintf(want + strlen(want), sizeof(want) - strlen(want), "/%u", p.len);
                assert_string_equal(prefix_s(p).s, want);
                snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
                         m[3], m[4], m[5]);
                assert_string_equal(mac_s(m).s, want);
                a = i < 300 ? (uint32_t)i * 0x01010101u : a * 1664525u + 1013904223u;
        }
        assert_string_equal(ip_s(0xffffffffu).s, "255.255.255.255");
        assert_string_equal(prefix_s((struct nr_prefix){0, 0}).s, "0.0.0.0/0");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_durations),
                TEST(test_formatters),
                TEST(test_sizes),
                TEST(test_macs),
                TEST(test_strict_ips),
                TEST(test_prefixes),
                TEST(test_interface_names),
                TEST(test_ports_and_numbers),
                TEST(test_match_name_or_mac),
                TEST(test_vm_values),
                TEST(test_vm_format_before_disk),
                TEST(test_vm_firmware_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
