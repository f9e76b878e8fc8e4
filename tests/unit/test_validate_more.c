/* Validation rules, part two: port forwards, VMs, the legal-but-suspicious warnings, a file with
 * many mistakes (all reported, printed sorted as FILE:LINE:COL: error: PATH: message), and
 * cfg_load_checked on bad files. Each rule has an ACCEPT and a REJECT case. */
#include "unit_helpers.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- port_forwards ------------------------------------------------------------------------- */

/* BASE_G with the reservation web1 (line 10); forwards start at line 12. */
#define PF_BASE                                                                                 \
        BASE_G "  dhcp:\n"                                                          /* 8 */     \
               "    reservations:\n"                                                /* 9 */     \
               "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}\n"  /* 10 */    \
               "port_forwards:\n"                                                   /* 11 */

static void test_forward_duplicate_port(void **state)
{
        (void)state;
        struct tcfg *t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1}\n"
                                            "  - {proto: tcp, port: 80, to: 10.0.2.11}\n");
        expect_error(t, 13, 24, "port_forwards[1].port",
                     "tcp port 80 is already forwarded by port_forwards[0]");
        assert_int_equal(t->d.n, 1);
        /* proto defaults to tcp, so this is the same (tcp, 80) */
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1}\n"
                               "  - {port: 80, to: 10.0.2.11}\n");
        expect_error(t, 13, 12, "port_forwards[1].port", "tcp port 80 is already forwarded");
        /* same port, other proto: fine */
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1}\n"
                               "  - {proto: udp, port: 80, to: 10.0.2.11}\n");
        expect_clean(t);
        t = check_text(PF_BASE "  - {proto: udp, port: 53, to: web1}\n"
                               "  - {proto: udp, port: 53, to: 10.0.2.11}\n");
        expect_error(t, 13, 24, "port_forwards[1].port", "udp port 53 is already forwarded");
}

/* At most NR_MAX_PORT_FORWARDS forwards (docs/config.md 8): one more is refused, at the key. */
static void test_forward_limit(void **state)
{
        (void)state;
        size_t n = NR_MAX_PORT_FORWARDS, len = strlen(PF_BASE) + (n + 1) * 48;
        char *text = malloc(len), *p = text;
        assert_non_null(text);
        p += sprintf(p, "%s", PF_BASE);
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "  - {proto: %s, port: %zu, to: web1}\n", i % 2 ? "udp" : "tcp",
                             1000 + i / 2);
        struct tcfg *t = check_text(text);
        expect_clean(t);
        sprintf(p, "  - {proto: tcp, port: 65000, to: web1}\n");
        t = check_text(text);
        expect_error(t, 12, 3, "port_forwards", "16385 forwards: at most 16384");
        assert_int_equal(t->d.n, 1);
        free(text);
}

static void test_forward_target_address(void **state)
{
        (void)state;
        static const struct {
                const char *to, *needle;
        } bad[] = {
                {"10.0.3.11", "10.0.3.11 is outside the guest subnet 10.0.2.0/24"},
                {"10.0.2.1", "10.0.2.1 is the guests' gateway (the router itself)"},
                {"10.0.2.255", "10.0.2.255 is the broadcast address of 10.0.2.0/24"},
                {"0.0.0.0", "0.0.0.0 is not a host address"},
                {"10.0.2.011", "'10.0.2.011' is not an IPv4 address"},
        };
        char text[1024];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                snprintf(text, sizeof(text), PF_BASE "  - {proto: tcp, port: 80, to: %s}\n",
                         bad[i].to);
                struct tcfg *t = check_text(text);
                if (t->parse_r >= 0 && t->validate_r >= 0)
                        print_message("forward to %s accepted\n", bad[i].to);
                expect_diag_at(t, NR_SEV_ERROR, 12, 32, "port_forwards[0].to", bad[i].needle,
                               bad[i].to, (int)i);
        }
        struct tcfg *t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: 10.0.2.11}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.port_forwards[0].to_ip, IP(10, 0, 2, 11));
}

static void test_forward_target_name(void **state)
{
        (void)state;
        struct tcfg *t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: wbe1}\n");
        expect_error(t, 12, 32, "port_forwards[0].to",
                     "no reservation or VM named 'wbe1' (did you mean 'web1'?)");
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: mailserver}\n");
        expect_error(t, 12, 32, "port_forwards[0].to", "no reservation or VM named 'mailserver'");
        assert_null(strstr(find_diag(&t->d, "port_forwards[0].to", NULL)->msg, "did you mean"));
        /* a VM is suggested too */
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: db2}\n"
                               "vms:\n"
                               "  - {name: db1, disk: /d/db1.qcow2, ip: 10.0.2.21}\n");
        expect_error(t, 12, 32, "port_forwards[0].to", "(did you mean 'db1'?)");
        /* resolved: a reservation's and a VM's ip */
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1}\n"
                               "  - {proto: tcp, port: 81, to: db1}\n"
                               "vms:\n"
                               "  - {name: db1, disk: /d/db1.qcow2, ip: 10.0.2.21}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.port_forwards[0].to_ip, IP(10, 0, 2, 10));
        assert_int_equal(t->cfg.port_forwards[1].to_ip, IP(10, 0, 2, 21));
}

/* A forward to a VM needs a fixed address: the VM's ip (or its reservation's). */
static void test_forward_target_without_ip(void **state)
{
        (void)state;
        struct tcfg *t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: db1}\n"
                                            "vms:\n"
                                            "  - {name: db1, disk: /d/db1.qcow2}\n");
        expect_error(t, 12, 32, "port_forwards[0].to",
                     "VM db1 has no ip: give vms[0].ip so the forward has a fixed target");
        assert_int_equal(t->d.n, 1);
        /* the reservation named like the VM gives it one */
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1}\n"
                               "vms:\n"
                               "  - {name: web1, disk: /d/web1.qcow2}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.port_forwards[0].to_ip, IP(10, 0, 2, 10));
        /* a reservation without ip is already an error where it is */
        t = check_text(BASE_G "  dhcp:\n    reservations:\n"
                              "      - {name: web1, mac: \"52:54:00:00:00:10\"}\n"
                              "port_forwards:\n"
                              "  - {proto: tcp, port: 80, to: web1}\n");
        expect_error(t, 10, 9, "guests.dhcp.reservations[0]", "missing required key 'ip'");
        assert_true(t->parse_r < 0);
}

static void test_forward_proto(void **state)
{
        (void)state;
        struct tcfg *t = check_text(PF_BASE "  - {proto: sctp, port: 80, to: web1}\n");
        expect_error(t, 12, 13, "port_forwards[0].proto", "proto must be tcp or udp, not 'sctp'");
        t = check_text(PF_BASE "  - {proto: TCP, port: 80, to: web1}\n");
        expect_error(t, 12, 13, "port_forwards[0].proto", "not 'TCP'");
        t = check_text(PF_BASE "  - {proto: udp, port: 80, to: web1}\n");
        expect_clean(t);
        assert_int_equal(t->cfg.port_forwards[0].proto, NR_PROTO_UDP);
}

static void test_forward_from(void **state)
{
        (void)state;
        struct tcfg *t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1, from: [10.0.3.1/24]}\n");
        expect_error(t, 12, 45, "port_forwards[0].from[0]",
                     "10.0.3.1/24 has host bits set (did you mean 10.0.3.0/24?)");
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1, from: [10.0.3.0/24, 172.16.0.0/33]}\n");
        expect_error(t, 12, 58, "port_forwards[0].from[1]", "'172.16.0.0/33' is not an IPv4 prefix");
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1, from: [10.0.3.7]}\n");
        expect_error(t, 12, 45, "port_forwards[0].from[0]", "like 10.0.3.7/24; /32 is one host");
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1, from: [10.0.3.0/24, 10.0.3.7/32]}\n");
        expect_warning(t, 12, 58, "port_forwards[0].from[1]", "10.0.3.7/32 overlaps from[0]");
        assert_int_equal(t->validate_r, 0);
        t = check_text(PF_BASE "  - {proto: tcp, port: 80, to: web1, from: [10.0.3.0/24, 172.16.0.0/22]}\n");
        expect_clean(t);
}

/* ---- vms ----------------------------------------------------------------------------------- */

/* PF_BASE's reservation web1 (10.0.2.10, 52:54:00:00:00:10), then vms from line 12. */
#define VM_BASE                                                                                 \
        BASE_G "  dhcp:\n"                                                                      \
               "    reservations:\n"                                                            \
               "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}\n"              \
               "vms:\n"

static void test_vm_duplicate_name(void **state)
{
        (void)state;
        struct tcfg *t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2}\n"
                                            "  - {name: db01, disk: /d/db02.qcow2}\n");
        expect_error(t, 13, 12, "vms[1].name", "VM db01 is defined twice (also vms[0])");
        assert_int_equal(t->d.n, 1);
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2}\n"
                               "  - {name: db02, disk: /d/db02.qcow2}\n");
        expect_clean(t);
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2}\n"
                               "  - {name: db02, disk: /d/db01.qcow2}\n");
        expect_error(t, 13, 24, "vms[1].disk", "/d/db01.qcow2 is also db01's disk");
}

static void test_vm_zero_vcpus_memory(void **state)
{
        (void)state;
        struct tcfg *t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, vcpus: 0}\n"
                                            "  - {name: db02, disk: /d/db02.qcow2, memory: 0}\n");
        expect_error(t, 12, 46, "vms[0].vcpus", "a VM needs at least 1 vCPU");
        expect_error(t, 13, 47, "vms[1].memory", "a VM needs at least 16MiB of memory");
        assert_int_equal(t->d.n, 2);
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, vcpus: 1}\n"
                               "  - {name: db02, disk: /d/db02.qcow2, memory: 16MiB}\n");
        expect_clean(t);
}

static void test_vm_collides_with_reservation(void **state)
{
        (void)state;
        struct tcfg *t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, ip: 10.0.2.10}\n");
        expect_error(t, 12, 43, "vms[0].ip",
                     "10.0.2.10 is reserved for web1 (guests.dhcp.reservations[0])");
        assert_int_equal(t->d.n, 1);
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, mac: \"52:54:00:00:00:10\"}\n");
        expect_error(t, 12, 44, "vms[0].mac",
                     "52:54:00:00:00:10 is used by reservation web1 (guests.dhcp.reservations[0])");
        assert_int_equal(t->d.n, 1);
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, mac: \"52:54:00:00:00:11\", "
                               "ip: 10.0.2.11}\n");
        expect_clean(t);
}

/* A VM named like a reservation is that host: the same ip and mac are fine, others are not. */
static void test_vm_named_like_reservation(void **state)
{
        (void)state;
        struct tcfg *t = check_text(VM_BASE "  - {name: web1, disk: /d/web1.qcow2, "
                                            "mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}\n");
        expect_clean(t);
        t = check_text(VM_BASE "  - {name: web1, disk: /d/web1.qcow2, "
                               "mac: \"52:54:00:00:00:10\", ip: 10.0.2.12}\n");
        expect_error(t, 12, 69, "vms[0].ip",
                     "10.0.2.12 disagrees with reservation web1's address 10.0.2.10");
        assert_int_equal(t->d.n, 1);
        t = check_text(VM_BASE "  - {name: web1, disk: /d/web1.qcow2, "
                               "mac: \"52:54:00:00:00:12\", ip: 10.0.2.10}\n");
        expect_error(t, 12, 44, "vms[0].mac",
                     "52:54:00:00:00:12 disagrees with reservation web1's MAC 52:54:00:00:00:10");
        assert_int_equal(t->d.n, 1);
}

static void test_vm_ip(void **state)
{
        (void)state;
        struct tcfg *t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, ip: 10.0.3.20}\n");
        expect_error(t, 12, 43, "vms[0].ip", "10.0.3.20 is outside the guest subnet 10.0.2.0/24");
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, ip: 10.0.2.1}\n");
        expect_error(t, 12, 43, "vms[0].ip", "is the guests' gateway");
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, ip: 10.0.2.20}\n"
                               "  - {name: db02, disk: /d/db02.qcow2, ip: 10.0.2.20}\n");
        expect_error(t, 13, 43, "vms[1].ip", "10.0.2.20 is also db01's address");
        /* an explicit 0.0.0.0 is refused, not read as "no ip" */
        t = check_text(VM_BASE "  - {name: db01, disk: /d/db01.qcow2, ip: 0.0.0.0}\n");
        assert_true(t->parse_r < 0);
        expect_error(t, 12, 43, "vms[0].ip", "0.0.0.0 is not a host address");
}

/* ---- warnings: legal but suspicious -------------------------------------------------------- */

static void test_warn_lan_without_routes(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_2);
        expect_warning(t, 9, 5, "uplinks.lan", "no routes: only the LAN subnet itself is reached");
        assert_int_equal(t->d.n, 1);
        assert_int_equal(t->validate_r, 0);
        assert_int_equal(t->parse_r, 0);
        t = check_text(BASE_2 "    routes: [10.0.0.0/22]\n");
        expect_clean(t);
}

static void test_warn_nat_lan_overlap(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_U "  lan:\n"
                                           "    match: {name: eth1}\n"
                                           "    address: 10.0.0.130/25\n"
                                           "    routes: [172.16.0.0/22]\n");
        expect_warning(t, 10, 14, "uplinks.lan.address",
                       "the LAN subnet 10.0.0.128/25 overlaps the NAT subnet 10.0.0.0/24");
        assert_int_equal(t->d.n, 1);
        assert_int_equal(t->validate_r, 0);
        t = check_text(BASE_2 "    routes: [172.16.0.0/22]\n");
        expect_clean(t);
}

/* Not a warning: two default routes in the main table would fight; with a NAT uplink it is an
 * error (forced tunnelling means no NAT uplink at all). */
static void test_warn_lan_default_route_with_nat(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_2 "    routes: [10.0.0.0/22, 0.0.0.0/0]\n");
        expect_error(t, 11, 27, "uplinks.lan.routes[1]",
                       "a default route via the LAN uplink");
        assert_int_equal(t->d.n, 1);
        assert_true(t->validate_r < 0);
        /* without a NAT uplink the LAN default route is the only way out: no warning */
        t = check_text("version: 1\n"
                       "guests: {subnet: 10.0.2.0/24}\n"
                       "uplinks:\n"
                       "  lan: {match: {name: eth1}, address: 10.0.1.4/24, routes: [0.0.0.0/0]}\n");
        expect_clean(t);
}

static void test_warn_forward_tcp22_with_ssh(void **state)
{
        (void)state;
        struct tcfg *t = check_text(PF_BASE "  - {proto: tcp, port: 22, to: web1}\n");
        expect_warning(t, 12, 24, "port_forwards[0].port",
                       "forwarding tcp port 22 hides SSH to the appliance itself");
        assert_int_equal(t->d.n, 1);
        assert_int_equal(t->validate_r, 0);
        t = check_text(PF_BASE "  - {proto: udp, port: 22, to: web1}\n");
        expect_clean(t);
        t = check_text(PF_BASE "  - {proto: tcp, port: 22, to: web1}\nfirewall: {ssh: false}\n");
        expect_clean(t);
}

static void test_warn_duplicate_dns(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G "  dhcp:\n    dns: [168.63.129.16, 1.1.1.1, 168.63.129.16]\n");
        expect_warning(t, 9, 35, "guests.dhcp.dns[2]", "168.63.129.16 is listed twice");
        assert_int_equal(t->d.n, 1);
        assert_int_equal(t->validate_r, 0);
        t = check_text(BASE_G "  dhcp:\n    dns: [168.63.129.16, 1.1.1.1]\n");
        expect_clean(t);
}

static void test_warn_route_inside_own_subnet(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_2 "    routes: [10.0.0.0/22, 10.0.1.128/25]\n");
        expect_warning(t, 11, 27, "uplinks.lan.routes[1]",
                       "10.0.1.128/25 is already reachable on the uplink's own subnet");
        assert_int_equal(t->d.n, 1);
        assert_int_equal(t->validate_r, 0);
        t = check_text(BASE_U "    routes: [10.0.0.0/24]\n");
        expect_warning(t, 8, 14, "uplinks.nat.routes[0]", "is already reachable");
        /* containing the own subnet is not inside it */
        t = check_text(BASE_2 "    routes: [10.0.0.0/22]\n");
        expect_clean(t);
}

/* ---- a file with many mistakes ------------------------------------------------------------- */

static const char MANY[] =
        "version: 1\n"                                                               /* 1 */
        "uplinks:\n"                                                                 /* 2 */
        "  nat:\n"                                                                   /* 3 */
        "    match: {name: eth0}\n"                                                  /* 4 */
        "    address: 10.0.0.4/24\n"                                                 /* 5 */
        "    gateway: 10.0.5.1\n"                                                    /* 6 */
        "  lan:\n"                                                                   /* 7 */
        "    match: {name: eth0}\n"                                                  /* 8 */
        "    address: 10.0.1.4/24\n"                                                 /* 9 */
        "    routes: [10.0.2.128/25, 10.0.0.0/33]\n"                                 /* 10 */
        "guests:\n"                                                                  /* 11 */
        "  bridge: averyveryverylongbridge\n"                                        /* 12 */
        "  subnet: 10.0.2.0/24\n"                                                    /* 13 */
        "  dhcp:\n"                                                                  /* 14 */
        "    range: 10.0.2.200-10.0.2.100\n"                                         /* 15 */
        "    lease_time: 12x\n"                                                      /* 16 */
        "    reservations:\n"                                                        /* 17 */
        "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.3.10}\n"          /* 18 */
        "      - {name: web2, mac: \"52:54:00:00:00:10\", ip: 10.0.2.11}\n"          /* 19 */
        "port_forwards:\n"                                                           /* 20 */
        "  - {proto: sctp, port: 23, to: 10.0.2.11}\n"                               /* 21 */
        "  - {proto: tcp, port: 3390, to: web3}\n"                                   /* 22 */
        "vms:\n"                                                                     /* 23 */
        "  - {name: db1, disk: /d/db1.qcow2, vcpus: 0}\n"                            /* 24 */
        "firewall: {shh: true}\n";                                                   /* 25 */

static const struct {
        int line, col;
        const char *path, *needle;
} MANY_WANT[] = {
        {6, 14, "uplinks.nat.gateway", "gateway 10.0.5.1 is outside the uplink's subnet"},
        {8, 12, "uplinks.lan.match", "matches the same interface as uplinks.nat.match"},
        {10, 14, "uplinks.lan.routes[0]", "10.0.2.128/25 is inside the guest subnet 10.0.2.0/24"},
        {10, 29, "uplinks.lan.routes[1]", "'10.0.0.0/33' is not an IPv4 prefix"},
        {12, 11, "guests.bridge", "'averyveryverylongbridge' is 23 bytes long"},
        {15, 12, "guests.dhcp.range", "range is reversed"},
        {16, 17, "guests.dhcp.lease_time", "'12x' is not a duration"},
        {18, 52, "guests.dhcp.reservations[0].ip", "10.0.3.10 is outside the guest subnet"},
        {19, 27, "guests.dhcp.reservations[1].mac", "is also used by reservations[0]"},
        {21, 13, "port_forwards[0].proto", "proto must be tcp or udp, not 'sctp'"},
        {22, 34, "port_forwards[1].to", "no reservation or VM named 'web3' (did you mean 'web1'?)"},
        {24, 44, "vms[0].vcpus", "a VM needs at least 1 vCPU"},
        {25, 12, "firewall.shh", "unknown key 'shh' (did you mean 'ssh'?)"},
};
#define N_MANY (sizeof(MANY_WANT) / sizeof(*MANY_WANT))

static void test_many_mistakes_all_reported(void **state)
{
        (void)state;
        struct tcfg *t = check_text(MANY);
        assert_true(t->parse_r < 0);
        assert_true(t->parse_r < 0 || t->validate_r < 0);
        for (size_t i = 0; i < N_MANY; i++)
                expect_diag_at(t, NR_SEV_ERROR, MANY_WANT[i].line, MANY_WANT[i].col,
                               MANY_WANT[i].path, MANY_WANT[i].needle, "MANY", (int)i);
        if (t->d.n != N_MANY)
                dump_diags(&t->d);
        assert_int_equal(t->d.n, N_MANY);
        assert_int_equal(t->d.n_errors, N_MANY);
}

static char *print_diags(struct nr_diags *d, const char *file)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        diag_print(d, file, f);
        fclose(f);
        return out;
}

/* `FILE:LINE:COL: error: KEY.PATH: message`, one a line, sorted by position. */
static void test_many_mistakes_printed_sorted(void **state)
{
        (void)state;
        struct tcfg *t = check_text(MANY);
        char *out = print_diags(&t->d, "bad.yaml");
        char want[512];
        const char *p = out;
        for (size_t i = 0; i < N_MANY; i++) {
                const char *nl = strchr(p, '\n');
                assert_non_null(nl);
                /* find the diag this line must be, then check the whole line */
                const struct nr_diag *g = find_diag(&t->d, MANY_WANT[i].path, MANY_WANT[i].needle);
                assert_non_null(g);
                snprintf(want, sizeof(want), "bad.yaml:%d:%d: error: %s: %s\n", MANY_WANT[i].line,
                         MANY_WANT[i].col, MANY_WANT[i].path, g->msg);
                if (strncmp(p, want, strlen(want))) {
                        print_message("line %zu:\n  got:  %.*s\n  want: %s", i, (int)(nl - p + 1), p,
                                      want);
                        free(out);
                        fail();
                }
                p = nl + 1;
        }
        assert_string_equal(p, "");
        free(out);
}

static void test_print_forms(void **state)
{
        (void)state;
        struct nr_diags d = {0};
        diag_add(&d, NR_SEV_WARNING, 7, 3, "guests.dhcp.dns[1]", "%s is listed twice", "1.1.1.1");
        diag_add(&d, NR_SEV_ERROR, 2, 1, "", "YAML syntax: %s", "oops");
        diag_add(&d, NR_SEV_ERROR, 7, 3, "guests.dhcp.dns[1]", "second at the same place");
        diag_add(&d, NR_SEV_ERROR, 0, 0, "", "cannot read: %s", "No such file or directory");
        assert_int_equal(d.n_errors, 3);
        assert_int_equal(d.n_warnings, 1);
        char *out = print_diags(&d, "x.yaml");
        assert_string_equal(out, "x.yaml:0:0: error: cannot read: No such file or directory\n"
                                 "x.yaml:2:1: error: YAML syntax: oops\n"
                                 "x.yaml:7:3: warning: guests.dhcp.dns[1]: 1.1.1.1 is listed twice\n"
                                 "x.yaml:7:3: error: guests.dhcp.dns[1]: second at the same place\n");
        free(out);
        diag_free(&d);
}

/* ---- cfg_load_checked: bad input is refused -------------------------------------------------- */

static int load_checked_text(const char *text)
{
        char path[] = "/tmp/nr-test-validate-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        t_free(&T);
        T.used = true;
        int r = cfg_load_checked(path, &T.cfg, &T.d);
        unlink(path);
        return r;
}

static void test_load_checked(void **state)
{
        (void)state;
        assert_true(load_checked_text(MANY) < 0);
        assert_int_equal(T.d.n_errors, N_MANY);
        /* a clean parse with only a cross-field error is refused too */
        assert_true(load_checked_text(BASE_G "  gateway: 10.0.3.1\n") < 0);
        expect_error(&T, 8, 12, "guests.gateway", "outside the guest subnet");
        assert_true(load_checked_text("version: 1\nuplinks: [\n") < 0);
        assert_true(load_checked_text("") < 0);
        /* warnings alone are not a reason to refuse */
        assert_int_equal(load_checked_text(BASE_2), 0);
        assert_int_equal(T.d.n_warnings, 1);
        assert_int_equal(load_checked_text(PF_BASE "  - {port: 3390, to: web1, to_port: 3389}\n"), 0);
        assert_int_equal(T.d.n, 0);

        t_free(&T);
        T.used = true;
        assert_true(cfg_load_checked("/nonexistent/nr.yaml", &T.cfg, &T.d) < 0);
        expect_error(&T, 0, 0, "", "cannot read");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_forward_duplicate_port),
                TEST(test_forward_limit),
                TEST(test_forward_target_address),
                TEST(test_forward_target_name),
                TEST(test_forward_target_without_ip),
                TEST(test_forward_proto),
                TEST(test_forward_from),
                TEST(test_vm_duplicate_name),
                TEST(test_vm_zero_vcpus_memory),
                TEST(test_vm_collides_with_reservation),
                TEST(test_vm_named_like_reservation),
                TEST(test_vm_ip),
                TEST(test_warn_lan_without_routes),
                TEST(test_warn_nat_lan_overlap),
                TEST(test_warn_lan_default_route_with_nat),
                TEST(test_warn_forward_tcp22_with_ssh),
                TEST(test_warn_duplicate_dns),
                TEST(test_warn_route_inside_own_subnet),
                TEST(test_many_mistakes_all_reported),
                TEST(test_many_mistakes_printed_sorted),
                TEST(test_print_forms),
                TEST(test_load_checked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
