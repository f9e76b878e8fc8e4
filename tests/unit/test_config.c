/* Parser tests: every key of every section lands in struct nr_config, defaults are filled, and
 * each kind of bad key or structure is an error at its line:column and key path. Single values
 * (durations, sizes, addresses, names) are test_config_values.c's, cross-field rules
 * test_validate*.c's. */
#include "unit_helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- one config with every key ----------------------------------------------------------- */

static const char FULL[] =
        "version: 1\n"
        "uplinks:\n"
        "  nat:\n"
        "    match: {name: eth0}\n"
        "    address: 10.0.0.4/24\n"
        "    gateway: 10.0.0.254\n"
        "    routes: [192.168.50.0/24]\n"
        "    table: 2001\n"
        "  lan:\n"
        "    match: {mac: \"00:0d:3a:aa:bb:cd\"}\n"
        "    address: 10.0.1.4/24\n"
        "    gateway: 10.0.1.1\n"
        "    routes: [10.0.0.0/22, 172.16.0.0/22]\n"
        "    table: 2002\n"
        "guests:\n"
        "  bridge: br-guests\n"
        "  subnet: 10.0.2.0/24\n"
        "  gateway: 10.0.2.254\n"
        "  mtu: 1400\n"
        "  ports: [eth2, eth3]\n"
        "  dhcp:\n"
        "    enabled: true\n"
        "    range: 10.0.2.100-10.0.2.200\n"
        "    lease_time: 1h30m\n"
        "    dns: [168.63.129.16, 10.0.2.254]\n"
        "    domain: nested.internal\n"
        "    reservations:\n"
        "      - {name: web1, mac: \"52:54:00:00:00:10\", ip: 10.0.2.10}\n"
        "      - {mac: \"52-54-00-00-00-11\", ip: 10.0.2.11}\n"
        "port_forwards:\n"
        "  - {proto: udp, port: 5353, to: 10.0.2.11, to_port: 53, from: [10.0.3.0/24, "
        "172.16.0.0/22]}\n"
        "  - {proto: tcp, port: 3390, to: web1}\n"
        "vms:\n"
        "  - name: db1\n"
        "    disk: /var/lib/nestrouter/disks/db1.img\n"
        "    format: qcow2\n"
        "    vcpus: 4\n"
        "    memory: 512MiB\n"
        "    mac: \"52:54:00:00:00:20\"\n"
        "    ip: 10.0.2.20\n"
        "    cpu: host-passthrough\n"
        "    autostart: false\n"
        "  - name: app2\n"
        "    disk: /d/app2.vhdx\n"
        "    cpu: Skylake-Client\n"
        "firewall:\n"
        "  ssh: true\n"
        "  ssh_from: [10.0.3.0/24]\n"
        "  block_metadata: false\n"
        "router:\n"
        "  route_protocol: 200\n"
        "  rule_priority: 7000\n";

static void test_full_uplinks(void **state)
{
        (void)state;
        struct tcfg *t = check_text(FULL);
        expect_clean(t);
        const struct nr_config *c = &t->cfg;
        assert_string_equal(c->file, "test.yaml");
        assert_int_equal(c->version, 1);

        const struct nr_uplink *n = &c->uplinks[NR_UPLINK_NAT];
        assert_true(n->present);
        assert_int_equal(n->match.kind, NR_MATCH_NAME);
        assert_string_equal(n->match.name, "eth0");
        assert_false(n->dhcp);
        assert_int_equal(n->address.addr, IP(10, 0, 0, 4));
        assert_int_equal(n->address.len, 24);
        assert_true(n->gateway_set);
        assert_int_equal(n->gateway, IP(10, 0, 0, 254));
        assert_int_equal(n->n_routes, 1);
        assert_int_equal(n->routes[0].addr, IP(192, 168, 50, 0));
        assert_int_equal(n->routes[0].len, 24);
        assert_int_equal(n->table, 2001);

        const struct nr_uplink *l = &c->uplinks[NR_UPLINK_LAN];
        assert_true(l->present);
        assert_int_equal(l->match.kind, NR_MATCH_MAC);
        assert_string_equal(l->match.name, "");
        assert_mac(l->match.mac, 0x00, 0x0d, 0x3a, 0xaa, 0xbb, 0xcd);
        assert_int_equal(l->address.addr, IP(10, 0, 1, 4));
        assert_int_equal(l->address.len, 24);
        assert_int_equal(l->gateway, IP(10, 0, 1, 1));
        assert_int_equal(l->n_routes, 2);
        assert_int_equal(l->routes[0].addr, IP(10, 0, 0, 0));
        assert_int_equal(l->routes[0].len, 22);
        assert_int_equal(l->routes[1].addr, IP(172, 16, 0, 0));
        assert_int_equal(l->routes[1].len, 22);
        assert_int_equal(l->table, 2002);
}

static void test_full_guests(void **state)
{
        (void)state;
        struct tcfg *t = check_text(FULL);
        expect_clean(t);
        const struct nr_guests *g = &t->cfg.guests;
        assert_string_equal(g->bridge, "br-guests");
        assert_int_equal(g->subnet.addr, IP(10, 0, 2, 0));
        assert_int_equal(g->subnet.len, 24);
        assert_int_equal(g->gateway, IP(10, 0, 2, 254));
        assert_int_equal(g->mtu, 1400);
        assert_int_equal(g->n_ports, 2);
        assert_string_equal(g->ports[0], "eth2");
        assert_string_equal(g->ports[1], "eth3");

        const struct nr_dhcp *d = &g->dhcp;
        assert_true(d->enabled);
        assert_int_equal(d->range_start, IP(10, 0, 2, 100));
        assert_int_equal(d->range_end, IP(10, 0, 2, 200));
        assert_int_equal(d->lease_time, 5400);
        assert_true(d->dns_set);
        assert_int_equal(d->n_dns, 2);
        assert_int_equal(d->dns[0], IP(168, 63, 129, 16));
        assert_int_equal(d->dns[1], IP(10, 0, 2, 254));
        assert_string_equal(d->domain, "nested.internal");
        assert_int_equal(d->n_reservations, 2);
        assert_string_equal(d->reservations[0].name, "web1");
        assert_true(d->reservations[0].has_mac);
        assert_mac(d->reservations[0].mac, 0x52, 0x54, 0, 0, 0, 0x10);
        assert_int_equal(d->reservations[0].ip, IP(10, 0, 2, 10));
        assert_false(d->reservations[0].from_vm);
        assert_string_equal(d->reservations[1].name, "");
        assert_mac(d->reservations[1].mac, 0x52, 0x54, 0, 0, 0, 0x11);
        assert_int_equal(d->reservations[1].ip, IP(10, 0, 2, 11));
}

static void test_full_forwards_vms_firewall_router(void **state)
{
        (void)state;
        struct tcfg *t = check_text(FULL);
        expect_clean(t);
        const struct nr_config *c = &t->cfg;
        assert_int_equal(c->n_port_forwards, 2);
        const struct nr_port_forward *f = &c->port_forwards[0];
        assert_int_equal(f->proto, NR_PROTO_UDP);
        assert_int_equal(f->port, 5353);
        assert_int_equal(f->to_port, 53);
        assert_int_equal(f->to_ip, IP(10, 0, 2, 11));
        assert_string_equal(f->to_name, "");
        assert_int_equal(f->n_from, 2);
        assert_int_equal(f->from[0].addr, IP(10, 0, 3, 0));
        assert_int_equal(f->from[0].len, 24);
        assert_int_equal(f->from[1].addr, IP(172, 16, 0, 0));
        assert_int_equal(f->from[1].len, 22);
        f = &c->port_forwards[1];
        assert_int_equal(f->proto, NR_PROTO_TCP);
        assert_int_equal(f->port, 3390);
        assert_int_equal(f->to_port, 3390);           /* default: to_port = port */
        assert_string_equal(f->to_name, "web1");
        assert_int_equal(f->to_ip, IP(10, 0, 2, 10)); /* resolved by validation */
        assert_int_equal(f->n_from, 0);

        assert_int_equal(c->n_vms, 2);
        const struct nr_vm *vm = &c->vms[0];
        assert_string_equal(vm->name, "db1");
        assert_string_equal(vm->disk, "/var/lib/nestrouter/disks/db1.img");
        assert_true(vm->format_set);
        assert_int_equal(vm->disk_format, NR_DISK_QCOW2); /* format: wins over .img */
        assert_int_equal(vm->vcpus, 4);
        assert_int_equal(vm->memory, 512ull << 20);
        assert_true(vm->mac_set);
        assert_mac(vm->mac, 0x52, 0x54, 0, 0, 0, 0x20);
        assert_int_equal(vm->ip, IP(10, 0, 2, 20));
        assert_int_equal(vm->cpu_mode, NR_CPU_HOST_PASSTHROUGH);
        assert_false(vm->autostart);
        vm = &c->vms[1];
        assert_string_equal(vm->name, "app2");
        assert_int_equal(vm->disk_format, NR_DISK_VHDX); /* from the file name */
        assert_false(vm->format_set);
        assert_int_equal(vm->cpu_mode, NR_CPU_NAMED);
        assert_string_equal(vm->cpu_model, "Skylake-Client");
        assert_int_equal(vm->ip, 0);

        assert_true(c->firewall.ssh); /* `ssh: off` is read in test_uplink_dhcp_and_flags */
        assert_int_equal(c->firewall.n_ssh_from, 1);
        assert_int_equal(c->firewall.ssh_from[0].addr, IP(10, 0, 3, 0));
        assert_int_equal(c->firewall.ssh_from[0].len, 24);
        assert_false(c->firewall.block_metadata);
        assert_int_equal(c->router.route_protocol, 200);
        assert_int_equal(c->router.rule_priority, 7000);
}

/* Every key's value position is remembered for later checks. */
static void test_full_positions(void **state)
{
        (void)state;
        struct tcfg *t = parse_text(FULL);
        int line, col;
        assert_int_equal(pos_get(&t->cfg.pos, "uplinks.lan.routes[1]", &line, &col),
                         strlen("uplinks.lan.routes[1]"));
        assert_int_equal(line, 13);
        assert_int_equal(col, 27);
        pos_get(&t->cfg.pos, "guests.dhcp.reservations[1].mac", &line, &col);
        assert_int_equal(line, 29);
        assert_int_equal(col, 15);
        pos_get(&t->cfg.pos, "vms[1]", &line, &col);
        assert_int_equal(line, 43);
        assert_int_equal(col, 5);
        /* an unrecorded path falls back to its nearest recorded ancestor */
        assert_int_equal(pos_get(&t->cfg.pos, "vms[1].ip", &line, &col), strlen("vms[1]"));
        assert_int_equal(line, 43);
        assert_int_equal(col, 5);
}

/* in with its first `from` replaced by `to` */
static void replace1(char *out, size_t size, const char *in, const char *from, const char *to)
{
        const char *at = strstr(in, from);
        assert_non_null(at);
        snprintf(out, size, "%.*s%s%s", (int)(at - in), in, to, at + strlen(from));
}

/* Positions are found only when a diagnostic asks: a good file never reads its text twice, a
 * file with a cross-field mistake reads it once more and gets the same line:column, by the fast
 * reader or by libyaml; cfg_parse keeps its own copy of the text for that. */
static void test_positions_deferred(void **state)
{
        (void)state;
        unsigned long f0 = pos_fills();
        struct tcfg *t = check_text(FULL);
        assert_int_equal(t->d.n, 0);
        assert_int_equal(pos_fills(), f0);

        /* the reservation's address is the gateway: validation asks where it is */
        char text[sizeof(FULL) + 64], tagged[sizeof(FULL) + 64];
        replace1(text, sizeof(text), FULL, "ip: 10.0.2.10}", "ip: 10.0.2.254}");
        t = parse_text(text);
        memset(text, 'x', sizeof(text) - 1); /* the caller's buffer is gone: the copy is read */
        cfg_validate(&t->cfg, &t->d);
        const struct nr_diag *g = find_diag(&t->d, "guests.dhcp.reservations[0].ip", "gateway");
        assert_non_null(g);
        assert_int_equal(g->line, 28);
        assert_int_equal(g->col, 52);
        assert_int_equal(pos_fills(), f0 + 1);

        /* outside the fast reader's subset (a tag): libyaml reads it again, same place */
        replace1(text, sizeof(text), FULL, "ip: 10.0.2.10}", "ip: 10.0.2.254}");
        replace1(tagged, sizeof(tagged), text, "subnet: 10.0.2.0/24", "subnet: !!str 10.0.2.0/24");
        t = check_text(tagged);
        g = find_diag(&t->d, "guests.dhcp.reservations[0].ip", "gateway");
        assert_non_null(g);
        assert_int_equal(g->line, 28);
        assert_int_equal(g->col, 52);
        assert_int_equal(pos_fills(), f0 + 2);
}

/* ---- defaults ------------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_U
                                    "  lan:\n"
                                    "    match: {name: eth1}\n"
                                    "    address: 10.0.1.4/24\n"
                                    "    routes: [10.0.0.0/22]\n"
                                    "port_forwards:\n"
                                    "  - {port: 8080, to: 10.0.2.9}\n"
                                    "vms:\n"
                                    "  - {name: web1, disk: /d/web1.qcow2}\n");
        expect_clean(t);
        const struct nr_config *c = &t->cfg;
        assert_int_equal(c->uplinks[NR_UPLINK_NAT].gateway, IP(10, 0, 0, 1));
        assert_false(c->uplinks[NR_UPLINK_NAT].gateway_set);
        assert_int_equal(c->uplinks[NR_UPLINK_LAN].gateway, IP(10, 0, 1, 1));
        assert_int_equal(c->uplinks[NR_UPLINK_NAT].table, 1001);
        assert_int_equal(c->uplinks[NR_UPLINK_LAN].table, 1002);

        const struct nr_guests *g = &c->guests;
        assert_string_equal(g->bridge, "nr0");
        assert_int_equal(g->gateway, IP(10, 0, 2, 1));
        assert_int_equal(g->mtu, 0);
        assert_int_equal(g->n_ports, 0);
        assert_true(g->dhcp.enabled);
        assert_int_equal(g->dhcp.range_start, IP(10, 0, 2, 2)); /* subnet minus gateway... */
        assert_int_equal(g->dhcp.range_end, IP(10, 0, 2, 254)); /* ...and broadcast */
        assert_int_equal(g->dhcp.lease_time, 12 * 3600);
        assert_int_equal(g->dhcp.n_dns, 1);
        assert_int_equal(g->dhcp.dns[0], IP(10, 0, 2, 1)); /* dns = [gateway] */
        assert_string_equal(g->dhcp.domain, "");

        assert_int_equal(c->port_forwards[0].proto, NR_PROTO_TCP);
        assert_int_equal(c->port_forwards[0].to_port, 8080);

        const struct nr_vm *vm = &c->vms[0];
        assert_int_equal(vm->vcpus, 1);
        assert_int_equal(vm->memory, 1ull << 30);
        assert_true(vm->mac_set);
        assert_mac(vm->mac, 0x52, 0x54, 0x00, 0xc3, 0xef, 0xe0); /* stable: FNV-1a of "web1" */
        assert_true(vm->autostart);
        assert_int_equal(vm->cpu_mode, NR_CPU_HOST_MODEL);
        assert_int_equal(vm->disk_format, NR_DISK_QCOW2);

        assert_true(c->firewall.ssh);
        assert_true(c->firewall.block_metadata);
        assert_int_equal(c->router.route_protocol, 78);
        assert_int_equal(c->router.rule_priority, 5000);
}

/* The default range takes the larger side of a gateway that is not the first host. */
static void test_default_range_around_gateway(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_G, "  gateway: 10.0.2.200\n");
        assert_int_equal(t->parse_r, 0);
        assert_int_equal(t->cfg.guests.dhcp.range_start, IP(10, 0, 2, 1));
        assert_int_equal(t->cfg.guests.dhcp.range_end, IP(10, 0, 2, 199));
        assert_int_equal(t->cfg.guests.dhcp.dns[0], IP(10, 0, 2, 200));

        t = parse_with(BASE_G, "  gateway: 10.0.2.254\n");
        assert_int_equal(t->cfg.guests.dhcp.range_start, IP(10, 0, 2, 1));
        assert_int_equal(t->cfg.guests.dhcp.range_end, IP(10, 0, 2, 253));

        t = parse_text("version: 1\n"
                       "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                       "guests: {subnet: 192.168.8.0/22}\n");
        assert_int_equal(t->cfg.guests.gateway, IP(192, 168, 8, 1));
        assert_int_equal(t->cfg.guests.dhcp.range_start, IP(192, 168, 8, 2));
        assert_int_equal(t->cfg.guests.dhcp.range_end, IP(192, 168, 11, 254));
}

static void test_vm_default_mac_stable(void **state)
{
        (void)state;
        uint8_t a[6], b[6], c[6];
        cfg_vm_default_mac("web1", a);
        cfg_vm_default_mac("web1", b);
        cfg_vm_default_mac("web2", c);
        assert_memory_equal(a, b, 6);
        assert_memory_not_equal(a, c, 6);
        assert_mac(a, 0x52, 0x54, 0x00, 0xc3, 0xef, 0xe0);
        assert_int_equal(c[0] & 1, 0); /* unicast, locally usable 52:54:00 prefix */
        assert_int_equal(c[0], 0x52);
        assert_int_equal(c[1], 0x54);
        assert_int_equal(c[2], 0x00);
}

/* `dhcp:` alone (and every other section left null) reads as an empty section. */
static void test_null_sections(void **state)
{
        (void)state;
        struct tcfg *t = check_text(BASE_G
                                    "  ports:\n"
                                    "  dhcp:\n"
                                    "port_forwards:\n"
                                    "vms:\n"
                                    "firewall:\n"
                                    "router:\n");
        expect_clean(t);
        assert_true(t->cfg.guests.dhcp.enabled);
        assert_int_equal(t->cfg.guests.dhcp.lease_time, 12 * 3600);
        assert_int_equal(t->cfg.guests.dhcp.n_reservations, 0);
        assert_int_equal(t->cfg.guests.n_ports, 0);
        assert_int_equal(t->cfg.n_port_forwards, 0);
        assert_int_equal(t->cfg.n_vms, 0);
        assert_true(t->cfg.firewall.ssh);
        assert_int_equal(t->cfg.router.route_protocol, 78);

        t = check_text(BASE_G "  dhcp:\n    reservations:\n    dns:\n");
        expect_clean(t);
        assert_int_equal(t->cfg.guests.dhcp.n_reservations, 0);
        /* `dns:` alone is as if not given: the default [gateway] */
        assert_int_equal(t->cfg.guests.dhcp.n_dns, 1);
        assert_int_equal(t->cfg.guests.dhcp.dns[0], IP(10, 0, 2, 1));
        /* `dns: []` says "no DNS server" */
        t = check_text(BASE_G "  dhcp:\n    dns: []\n");
        expect_clean(t);
        assert_true(t->cfg.guests.dhcp.dns_set);
        assert_int_equal(t->cfg.guests.dhcp.n_dns, 0);
}

static void test_uplink_dhcp_and_flags(void **state)
{
        (void)state;
        struct tcfg *t = check_text("version: 1\n"
                                    "uplinks:\n"
                                    "  nat: {match: {name: eth0}, address: dhcp}\n"
                                    "guests:\n"
                                    "  subnet: 192.168.0.0/24\n"
                                    "  dhcp: {enabled: no, lease_time: infinite}\n"
                                    "firewall: {ssh: off, block_metadata: yes}\n");
        expect_clean(t);
        const struct nr_uplink *u = &t->cfg.uplinks[NR_UPLINK_NAT];
        assert_true(u->dhcp);
        assert_false(u->gateway_set);
        assert_int_equal(u->gateway, 0); /* no default gateway for a DHCP uplink */
        assert_int_equal(u->table, 1001);
        assert_false(t->cfg.uplinks[NR_UPLINK_LAN].present);
        assert_false(t->cfg.guests.dhcp.enabled);
        assert_int_equal(t->cfg.guests.dhcp.lease_time, 0);
        assert_false(t->cfg.firewall.ssh);
        assert_true(t->cfg.firewall.block_metadata);
}

/* ---- keys and structure -------------------------------------------------------------------- */

static void test_unknown_keys(void **state)
{
        (void)state;
        static const struct bad bad[] = {
                {"gusets: {}\n", 8, 1, "gusets", "unknown key 'gusets' (did you mean 'guests'?)"},
                {"routers: {}\n", 8, 1, "routers", "(did you mean 'router'?)"},
                {"  dhcp:\n    rnage: 10.0.2.100-10.0.2.200\n", 9, 5, "guests.dhcp.rnage",
                 "unknown key 'rnage' (did you mean 'range'?)"},
                {"vms:\n  - {name: a, disk: /d/a.qcow2, cpus: 2}\n", 9, 33, "vms[0].cpus",
                 "(did you mean 'vcpus'?)"},
                {"port_forwards:\n  - {port: 80, to: 10.0.2.5, toport: 8080}\n", 9, 30,
                 "port_forwards[0].toport", "(did you mean 'to_port'?)"},
                {"firewall: {shh: true}\n", 8, 12, "firewall.shh", "(did you mean 'ssh'?)"},
        };
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
        struct tcfg *t = parse_with(BASE_U, "    gatway: 10.0.0.1\n");
        expect_error(t, 8, 5, "uplinks.nat.gatway", "unknown key 'gatway' (did you mean 'gateway'?)");
        /* nothing close: no suggestion */
        t = parse_with(BASE_G, "frobnicate: 1\n");
        expect_error(t, 8, 1, "frobnicate", "unknown key 'frobnicate'");
        assert_null(strstr(find_diag(&t->d, "frobnicate", NULL)->msg, "did you mean"));
}

static void test_duplicate_keys(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_G, "  subnet: 10.0.3.0/24\n");
        expect_error(t, 8, 3, "guests.subnet", "duplicate key 'subnet'");
        assert_int_equal(t->cfg.guests.subnet.addr, IP(10, 0, 2, 0)); /* the first one counts */
        t = parse_with(BASE_G, "version: 1\n");
        expect_error(t, 8, 1, "version", "duplicate key 'version'");
        t = parse_with(BASE_G, "vms:\n  - {name: a, disk: /d/a.qcow2, name: b}\n");
        expect_error(t, 9, 33, "vms[0].name", "duplicate key 'name'");
        assert_string_equal(t->cfg.vms[0].name, "a");
}

static void test_wrong_types(void **state)
{
        (void)state;
        static const struct bad bad[] = {
                {"  bridge: {name: x}\n", 8, 11, "guests.bridge",
                 "expected an interface name, got a mapping"},
                {"  dhcp: [a, b]\n", 8, 9, "guests.dhcp", "expected a mapping (key: value lines), "
                                                          "got a list"},
                {"  dhcp: yes\n", 8, 9, "guests.dhcp", "expected a mapping"},
                {"  ports: eth2\n", 8, 10, "guests.ports", "expected a list, got a single value"},
                {"  gateway: [10.0.2.1]\n", 8, 12, "guests.gateway",
                 "expected an IPv4 address like 10.0.2.1, got a list"},
                {"  mtu: big\n", 8, 8, "guests.mtu", "expected a whole number, got 'big'"},
                {"  mtu: 1500.0\n", 8, 8, "guests.mtu", "expected a whole number"},
                {"  dhcp: {enabled: maybe}\n", 8, 19, "guests.dhcp.enabled",
                 "expected true or false, got 'maybe'"},
                {"  dhcp: {dns: 10.0.2.1}\n", 8, 15, "guests.dhcp.dns", "expected a list"},
                {"port_forwards: {port: 80}\n", 8, 16, "port_forwards", "expected a list, got a "
                                                                          "mapping"},
                {"port_forwards:\n  - {port: [80], to: 10.0.2.5}\n", 9, 12, "port_forwards[0].port",
                 "expected a number, got a list"},
                {"vms:\n  - {name: {a: 1}, disk: /d/a.qcow2}\n", 9, 12, "vms[0].name",
                 "expected a name, got a mapping"},
                {"firewall: true\n", 8, 11, "firewall", "expected a mapping"},
                {"firewall: {ssh_from: 10.0.3.0/24}\n", 8, 22, "firewall.ssh_from",
                 "expected a list"},
        };
        run_bad(BASE_G, bad, sizeof(bad) / sizeof(*bad));
        struct tcfg *t = parse_with(BASE_U, "    routes: {a: b}\n");
        expect_error(t, 8, 13, "uplinks.nat.routes", "expected a list, got a mapping");
        t = parse_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n  nat:\n"
                       "    match: {name: eth0}\n    address: {ip: 10.0.0.4}\n");
        expect_error(t, 6, 14, "uplinks.nat.address",
                     "expected an address like 10.0.0.4/24, or dhcp, got a mapping");
        t = parse_text("version: {a: 1}\nuplinks: [nat]\nguests:\n  subnet: [10.0.2.0/24]\n");
        expect_error(t, 1, 10, "version", "expected a number, got a mapping");
        expect_error(t, 2, 10, "uplinks", "expected a mapping (key: value lines), got a list");
        expect_error(t, 4, 11, "guests.subnet", "expected a prefix like 10.0.2.0/24, got a list");
        t = parse_with(BASE_G, "? [a]\n: 1\n");
        expect_error(t, 8, 3, "", "a key must be a plain word");
}

/* A section of the wrong type is one mistake: one error at its place, not also "missing
 * required key" errors for the keys it could not contain (those would land at 1:1). */
static void test_wrong_type_is_one_error(void **state)
{
        (void)state;
        struct tcfg *t = parse_with(BASE_G, "port_forwards:\n  - 80\n");
        expect_error(t, 9, 5, "port_forwards[0]", "expected a mapping");
        if (count_diags(&t->d, "port_forwards[0]") != 1)
                dump_diags(&t->d);
        assert_int_equal(t->d.n, 1);

        t = parse_text("version: 1\n"
                       "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                       "guests: [10.0.2.0/24]\n");
        expect_error(t, 3, 9, "guests", "expected a mapping");
        if (t->d.n != 1)
                dump_diags(&t->d);
        assert_int_equal(t->d.n, 1);
}

static void test_missing_required(void **state)
{
        (void)state;
        static const struct {
                const char *text;
                int line, col;
                const char *path, *needle;
        } v[] = {
                {"uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                 "guests: {subnet: 10.0.2.0/24}\n",
                 1, 1, "", "missing required key 'version'"},
                {"version: 1\nguests: {subnet: 10.0.2.0/24}\n", 1, 1, "",
                 "missing required key 'uplinks'"},
                {"version: 1\nuplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n", 1, 1,
                 "", "missing required key 'guests'"},
                {"version: 1\nuplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                 "guests:\n  bridge: nr0\n",
                 4, 3, "guests", "missing required key 'subnet'"},
                {"version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n  nat:\n"
                 "    address: 10.0.0.4/24\n",
                 5, 5, "uplinks.nat", "missing required key 'match'"},
                {"version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n  lan:\n"
                 "    match: {name: eth1}\n",
                 5, 5, "uplinks.lan", "missing required key 'address'"},
                {BASE_G "  dhcp:\n    reservations:\n      - {ip: 10.0.2.10}\n", 10, 9,
                 "guests.dhcp.reservations[0]", "missing required key 'mac'"},
                {BASE_G "  dhcp:\n    reservations:\n      - {mac: \"52:54:00:00:00:10\"}\n", 10, 9,
                 "guests.dhcp.reservations[0]", "missing required key 'ip'"},
                {BASE_G "port_forwards:\n  - {to: 10.0.2.5}\n", 9, 5, "port_forwards[0]",
                 "missing required key 'port'"},
                {BASE_G "port_forwards:\n  - proto: tcp\n    port: 80\n", 9, 5, "port_forwards[0]",
                 "missing required key 'to'"},
                {BASE_G "vms:\n  - {disk: /d/a.qcow2}\n", 9, 5, "vms[0]",
                 "missing required key 'name'"},
                {BASE_G "vms:\n  - name: a\n    vcpus: 2\n", 9, 5, "vms[0]",
                 "VM a needs a disk, a base, a disk_size (a new blank disk), a cdrom or a "
                 "kernel to boot directly"},
        };
        for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
                struct tcfg *t = parse_text(v[i].text);
                assert_true(t->parse_r < 0);
                expect_diag_at(t, NR_SEV_ERROR, v[i].line, v[i].col, v[i].path, v[i].needle,
                               v[i].text, (int)i);
        }
}

static void test_yaml_syntax(void **state)
{
        (void)state;
        struct tcfg *t = parse_text("version: 1\nuplinks: [\n");
        assert_true(t->parse_r < 0);
        expect_error(t, 3, 1, "", "YAML syntax: did not find expected node content");
        assert_int_equal(t->d.n, 1);

        t = parse_text("version: 1\n\tuplinks:\n");
        expect_error(t, 2, 1, "", "YAML syntax: found a tab character");

        t = parse_text("version: 1\nuplinks:\n  nat: {match: {name: eth0}, address: 10.0.0.4/24}\n"
                       " guests:\n");
        expect_error(t, 4, 2, "", "YAML syntax: did not find expected key");
}

static void test_version(void **state)
{
        (void)state;
        struct tcfg *t = parse_text("version: 2\n"
                                    "uplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                                    "guests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 1, 10, "version", "unsupported version 2 (this nestrouterd reads version 1)");
        assert_int_equal(t->cfg.version, 0);
        t = parse_text("version: 0\nuplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                       "guests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 1, 10, "version", "unsupported version 0");
        t = parse_text("version: one\nuplinks: {nat: {match: {name: eth0}, address: 10.0.0.4/24}}\n"
                       "guests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 1, 10, "version", "expected a whole number, got 'one'");
}

static void test_no_uplinks(void **state)
{
        (void)state;
        struct tcfg *t = parse_text("version: 1\nuplinks: {}\nguests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 2, 10, "uplinks", "no uplink: configure uplinks.nat, uplinks.lan or both");
        assert_int_equal(t->d.n_errors, 1);
        t = parse_text("version: 1\nuplinks:\nguests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 2, 9, "uplinks", "no uplink");
        t = parse_text("version: 1\nuplinks:\n  nat:\nguests: {subnet: 10.0.2.0/24}\n");
        expect_error(t, 3, 7, "uplinks.nat", "is empty; give match and address");
}

static void test_empty_file(void **state)
{
        (void)state;
        static const char *const empties[] = {"", "\n\n", "# only a comment\n"};
        for (size_t i = 0; i < sizeof(empties) / sizeof(*empties); i++) {
                struct tcfg *t = parse_text(empties[i]);
                assert_int_equal(t->parse_r, -EINVAL);
                expect_error(t, 1, 1, "", "the file is empty");
                assert_int_equal(t->d.n, 1);
        }
        struct tcfg *t = parse_text("just a string\n");
        expect_error(t, 1, 1, "", "expected a mapping");
}

/* cfg_load reads the file; an unreadable one is one error without a place. */
static void test_load_file(void **state)
{
        (void)state;
        char path[] = "/tmp/nr-test-config-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, FULL, strlen(FULL)), (ssize_t)strlen(FULL));
        close(fd);
        t_free(&T);
        T.used = true;
        T.parse_r = cfg_load(path, &T.cfg, &T.d);
        unlink(path);
        assert_int_equal(T.parse_r, 0);
        assert_string_equal(T.cfg.file, path);
        assert_int_equal(T.cfg.router.rule_priority, 7000);

        t_free(&T);
        T.used = true;
        T.parse_r = cfg_load("/nonexistent/nestrouter.yaml", &T.cfg, &T.d);
        assert_true(T.parse_r < 0);
        expect_error(&T, 0, 0, "", "cannot read: No such file or directory");
}

static void load_path(const char *path)
{
        t_free(&T);
        T.used = true;
        T.parse_r = cfg_load(path, &T.cfg, &T.d);
}

/* Hostile files: a FIFO (it would block the reader), a link to /dev/zero (endless), a file over
 * the cap and a directory are refused before anything is read; nothing blocks. */
static void test_load_not_a_file(void **state)
{
        (void)state;
        char dir[] = "/tmp/nr-test-config-XXXXXX", p[128];
        assert_non_null(mkdtemp(dir));
        snprintf(p, sizeof(p), "%s/fifo.yaml", dir);
        assert_int_equal(mkfifo(p, 0600), 0);
        load_path(p);
        unlink(p);
        assert_true(T.parse_r < 0);
        expect_error(&T, 0, 0, "", "not a regular file (a FIFO)");

        snprintf(p, sizeof(p), "%s/zero.yaml", dir);
        assert_int_equal(symlink("/dev/zero", p), 0);
        load_path(p);
        unlink(p);
        assert_true(T.parse_r < 0);
        expect_error(&T, 0, 0, "", "not a regular file (a character device)");

        load_path(dir);
        expect_error(&T, 0, 0, "", "not a regular file (a directory)");

        snprintf(p, sizeof(p), "%s/huge.yaml", dir);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, NR_CONFIG_MAX_BYTES + 1), 0);
        close(fd);
        load_path(p);
        assert_true(T.parse_r < 0);
        expect_error(&T, 0, 0, "", "the file is larger than 4 MiB");
        assert_int_equal(T.d.n, 1);
        assert_int_equal(truncate(p, NR_CONFIG_MAX_BYTES), 0); /* at the cap: read, then parsed */
        load_path(p);
        assert_true(T.d.n >= 1);
        assert_null(strstr(T.d.v[0].msg, "larger than"));
        unlink(p);
        rmdir(dir);
}

/* A message quotes the value it is about, but never a whole huge one. */
static void test_long_value_shortened(void **state)
{
        (void)state;
        size_t n = 100000;
        char *text = malloc(n + 200);
        assert_non_null(text);
        int k = snprintf(text, 200, "version: 1\nuplinks:\n  nat:\n    match: {name: ");
        memset(text + k, 'x', n);
        strcpy(text + k + n, "}\n    address: dhcp\n");
        struct tcfg *t = parse_text(text);
        free(text);
        const struct nr_diag *g = NULL;
        for (size_t i = 0; i < t->d.n; i++)
                if (!strcmp(t->d.v[i].path, "uplinks.nat.match.name"))
                        g = &t->d.v[i];
        assert_non_null(g);
        assert_true(strlen(g->msg) <= NR_DIAG_MSG_MAX + 40);
        assert_non_null(strstr(g->msg, "bytes ...]"));
        assert_non_null(strstr(g->msg, "interface names have at most 15")); /* the tail stays */
}

/* Flow nesting is capped before libyaml (whose time grows with its square) sees the text;
 * brackets in quotes and comments do not count. */
static void test_nesting_capped(void **state)
{
        (void)state;
        char text[512];
        int k = snprintf(text, sizeof(text), "version: 1\nuplinks: ");
        memset(text + k, '[', 65);
        snprintf(text + k + 65, sizeof(text) - (size_t)k - 65, "\n");
        struct tcfg *t = parse_text(text);
        expect_error(t, 2, 9 + 65, "", "nesting deeper than 64 levels"); /* the 65th [ */
        assert_int_equal(t->d.n, 1);
        k = snprintf(text, sizeof(text), "version: 1 # %.*s\nuplinks: {nat: {match: {name: '%.*s'}}}\n",
                     70, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                     70, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
        t = parse_text(text);
        for (size_t i = 0; i < t->d.n; i++)
                assert_null(strstr(t->d.v[i].msg, "nesting"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_full_uplinks),
                TEST(test_positions_deferred),
                TEST(test_full_guests),
                TEST(test_full_forwards_vms_firewall_router),
                TEST(test_full_positions),
                TEST(test_defaults),
                TEST(test_default_range_around_gateway),
                TEST(test_vm_default_mac_stable),
                TEST(test_null_sections),
                TEST(test_uplink_dhcp_and_flags),
                TEST(test_unknown_keys),
                TEST(test_duplicate_keys),
                TEST(test_wrong_types),
                TEST(test_wrong_type_is_one_error),
                TEST(test_missing_required),
                TEST(test_yaml_syntax),
                TEST(test_version),
                TEST(test_no_uplinks),
                TEST(test_empty_file),
                TEST(test_load_file),
                TEST(test_load_not_a_file),
                TEST(test_long_value_shortened),
                TEST(test_nesting_capped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
