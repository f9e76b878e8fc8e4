/* Cross-field checks. Each check reports at the position of the key it is about, so that a file
 * with several mistakes gets every one of them, each with its line, column and key path. */
#include "core/config/validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/config/keyidx.h"
#include "core/config/yamlval.h"

struct vctx {
        struct nr_config *cfg;
        struct nr_diags *d;
        struct kidx res_names;     /* the named reservations by name: duplicates and `to:` */
};

static void vdiag(struct vctx *v, enum nr_severity sev, const char *path, const char *fmt,
                  va_list ap)
{
        int line, col;
        pos_get(&v->cfg->pos, path, &line, &col);
        diag_vadd(v->d, sev, line, col, path, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void verr(struct vctx *v, const char *path,
                                                        const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vdiag(v, NR_SEV_ERROR, path, fmt, ap);
        va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void vwarn(struct vctx *v, const char *path,
                                                         const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vdiag(v, NR_SEV_WARNING, path, fmt, ap);
        va_end(ap);
}

static const char *P(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *P(char *buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, YV_PATH_MAX, fmt, ap);
        va_end(ap);
        return buf;
}

static bool mac_eq(const uint8_t a[6], const uint8_t b[6])
{
        return memcmp(a, b, 6) == 0;
}

static uint64_t mac_key(const uint8_t m[6])
{
        uint64_t k = 0;
        for (int i = 0; i < 6; i++)
                k = k << 8 | m[i];
        return k;
}

static uint64_t prefix_key(struct nr_prefix p)
{
        return (uint64_t)p.addr << 8 | p.len;
}

static void routes_index(struct kidx *x, const struct nr_uplink *u)
{
        kidx_init(x, u->n_routes);
        for (size_t i = 0; i < u->n_routes; i++)
                kidx_put(x, i, prefix_key(u->routes[i]), NULL);
        kidx_sort(x);
}

static struct nr_prefix subnet_of(struct nr_prefix a)
{
        return (struct nr_prefix){prefix_network(a), a.len};
}

/* ---- uplinks ----------------------------------------------------------------------------- */

static void check_uplink_gateway(struct vctx *v, enum nr_uplink_role r)
{
        const struct nr_uplink *u = &v->cfg->uplinks[r];
        char p[YV_PATH_MAX];
        const char *name = cfg_uplink_name(r);
        if (u->dhcp || !u->present || !prefix_valid(u->address))
                return;
        struct nr_prefix net = subnet_of(u->address);
        P(p, "uplinks.%s.%s", name, u->gateway_set ? "gateway" : "address");
        if (u->address.len >= 31)
                verr(v, p, "a /%u has no room for a gateway", u->address.len);
        else if (!prefix_contains(net, u->gateway))
                verr(v, p, "gateway %s is outside the uplink's subnet %s", ip_s(u->gateway).s,
                     prefix_s(net).s);
        else if (u->gateway == prefix_network(net) || u->gateway == prefix_broadcast(net))
                verr(v, p, "gateway %s is the %s address of %s", ip_s(u->gateway).s,
                     u->gateway == prefix_network(net) ? "network" : "broadcast",
                     prefix_s(net).s);
        else if (u->gateway == u->address.addr)
                verr(v, p, "gateway %s is the uplink's own address", ip_s(u->gateway).s);
}

static void check_uplink_routes(struct vctx *v, enum nr_uplink_role r)
{
        const struct nr_config *cfg = v->cfg;
        const struct nr_uplink *u = &cfg->uplinks[r];
        const struct nr_prefix guests = cfg->guests.subnet;
        const struct nr_uplink *o = &cfg->uplinks[!r];
        char p[YV_PATH_MAX];
        struct kidx mine, other = {0};
        routes_index(&mine, u);
        if (r == NR_UPLINK_LAN)
                routes_index(&other, o);
        for (size_t i = 0; i < u->n_routes; i++) {
                struct nr_prefix rt = u->routes[i];
                if (!prefix_valid(rt))
                        continue;
                P(p, "uplinks.%s.routes[%zu]", cfg_uplink_name(r), i);
                if (guests.len && prefix_covers(guests, rt))
                        verr(v, p, "%s is %sthe guest subnet %s; it would send guests' own "
                             "traffic away", prefix_s(rt).s,
                             rt.len == guests.len ? "" : "inside ", prefix_s(guests).s);
                for (size_t j = kidx_first(&mine, i); j != i; j = kidx_next(&mine, j))
                        verr(v, p, "%s is listed twice (also routes[%zu])", prefix_s(rt).s, j);
                if (!u->dhcp && prefix_valid(u->address) &&
                    prefix_covers(subnet_of(u->address), rt))
                        vwarn(v, p, "%s is already reachable on the uplink's own subnet",
                              prefix_s(rt).s);
                if (r == NR_UPLINK_NAT && rt.len == 0)
                        verr(v, p, "the NAT uplink's default route is implied; remove 0.0.0.0/0");
                if (r == NR_UPLINK_LAN && rt.len == 0 && cfg->uplinks[NR_UPLINK_NAT].present)
                        verr(v, p, "a default route via the LAN uplink would take internet "
                             "traffic away from the NAT uplink; for forced tunnelling remove "
                             "uplinks.nat");
                for (size_t j = r == NR_UPLINK_LAN ? kidx_find(&other, prefix_key(rt), NULL)
                                                   : KIDX_NONE;
                     j != KIDX_NONE; j = kidx_next(&other, j))
                        verr(v, p, "%s is also routed via uplinks.nat (routes[%zu])",
                             prefix_s(rt).s, j);
        }
        kidx_free(&mine);
        if (r == NR_UPLINK_LAN)
                kidx_free(&other);
}

static bool match_same(const struct nr_match *a, const struct nr_match *b)
{
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case NR_MATCH_NAME:
                return !strcmp(a->name, b->name);
        case NR_MATCH_MAC:
                return mac_eq(a->mac, b->mac);
        case NR_MATCH_AZURE_SUBNET:
                return prefix_overlaps(a->azure_subnet, b->azure_subnet);
        case NR_MATCH_AZURE_PRIMARY:
        case NR_MATCH_NONE:
                break;
        }
        return true;
}

static void check_uplinks(struct vctx *v)
{
        struct nr_config *cfg = v->cfg;
        struct nr_uplink *nat = &cfg->uplinks[NR_UPLINK_NAT], *lan = &cfg->uplinks[NR_UPLINK_LAN];
        char p[YV_PATH_MAX];
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                if (!cfg->uplinks[r].present)
                        continue;
                check_uplink_gateway(v, (enum nr_uplink_role)r);
                check_uplink_routes(v, (enum nr_uplink_role)r);
                const struct nr_match *m = &cfg->uplinks[r].match;
                if (m->kind == NR_MATCH_NAME && !strcmp(m->name, cfg->guests.bridge))
                        verr(v, P(p, "uplinks.%s.match.name", cfg_uplink_name(r)),
                             "%s is also the guest bridge's name", m->name);
                for (size_t i = 0; m->kind == NR_MATCH_NAME && i < cfg->guests.n_ports; i++)
                        if (!strcmp(m->name, cfg->guests.ports[i]))
                                verr(v, P(p, "guests.ports[%zu]", i),
                                     "%s is uplinks.%s; an uplink cannot be a bridge port",
                                     m->name, cfg_uplink_name(r));
        }
        if (!nat->present || !lan->present)
                goto lan_routes;
        if (match_same(&nat->match, &lan->match))
                verr(v, "uplinks.lan.match", "matches the same interface as uplinks.nat.match");
        if (lan->match.kind == NR_MATCH_AZURE_PRIMARY)
                verr(v, "uplinks.lan.match", "Azure's primary NIC must be the NAT uplink (NIC1): "
                     "IMDS, the wireserver and DNS only answer there");
        if (nat->table == lan->table)
                verr(v, pos_get(&cfg->pos, "uplinks.lan.table", &(int){0}, &(int){0}) ==
                                        strlen("uplinks.lan.table")
                                ? "uplinks.lan.table"
                                : "uplinks.nat.table",
                     "table %u is also the other uplink's table", lan->table);
        if (!nat->dhcp && !lan->dhcp && prefix_valid(nat->address) &&
            prefix_valid(lan->address) && prefix_overlaps(nat->address, lan->address))
                vwarn(v, "uplinks.lan.address",
                      "the LAN subnet %s overlaps the NAT subnet %s; replies may leave by the "
                      "wrong NIC", prefix_s(subnet_of(lan->address)).s,
                      prefix_s(subnet_of(nat->address)).s);
lan_routes:
        if (!cfg->firewall.ssh && cfg->firewall.n_ssh_from)
                vwarn(v, "firewall.ssh_from", "ignored: firewall.ssh is false");
        if (lan->present && lan->n_routes == 0)
                vwarn(v, "uplinks.lan", "no routes: only the LAN subnet itself is reached "
                      "through it (add the VNet and on-premises prefixes to routes)");
}

/* ---- guests ------------------------------------------------------------------------------ */

/* Is `a` a usable guest address (in the subnet, not network/broadcast, not the gateway)?
 * Reports at path and returns false otherwise. */
/* An address a guest may have; the key path (fmt) is spelled out only for an error: this runs
 * for every forward and reservation of the file. */
static bool check_guest_ip(struct vctx *v, uint32_t a, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static bool check_guest_ip(struct vctx *v, uint32_t a, const char *fmt, ...)
{
        const struct nr_guests *g = &v->cfg->guests;
        if (!g->subnet.len)
                return false;
        if (prefix_contains(g->subnet, a) && a != prefix_network(g->subnet) &&
            a != prefix_broadcast(g->subnet) && a != g->gateway)
                return true;
        char path[YV_PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        if (!prefix_contains(g->subnet, a)) {
                verr(v, path, "%s is outside the guest subnet %s", ip_s(a).s,
                     prefix_s(g->subnet).s);
                return false;
        }
        if (a == prefix_network(g->subnet) || a == prefix_broadcast(g->subnet)) {
                verr(v, path, "%s is the %s address of %s", ip_s(a).s,
                     a == prefix_network(g->subnet) ? "network" : "broadcast",
                     prefix_s(g->subnet).s);
                return false;
        }
        if (a == g->gateway) {
                verr(v, path, "%s is the guests' gateway (the router itself)", ip_s(a).s);
                return false;
        }
        return true;
}

/* A bad gateway is reported at guests.gateway when the file gives one, else at the subnet it
 * was taken from (asked only for the message: a position is found only when needed). */
static const char *gateway_path(const struct nr_config *cfg)
{
        const char *p = "guests.gateway";
        return pos_get(&cfg->pos, p, &(int){0}, &(int){0}) == strlen(p) ? p : "guests.subnet";
}

static void check_guest_subnet(struct vctx *v)
{
        const struct nr_config *cfg = v->cfg;
        const struct nr_guests *g = &cfg->guests;
        char p[YV_PATH_MAX];
        for (int r = 0; r < NR_UPLINK_COUNT; r++) {
                const struct nr_uplink *u = &cfg->uplinks[r];
                if (u->present && !u->dhcp && prefix_valid(u->address) &&
                    prefix_overlaps(u->address, g->subnet))
                        verr(v, "guests.subnet", "%s overlaps uplinks.%s's subnet %s",
                             prefix_s(g->subnet).s, cfg_uplink_name(r),
                             prefix_s(subnet_of(u->address)).s);
        }
        if (!prefix_contains(g->subnet, g->gateway))
                verr(v, gateway_path(cfg), "gateway %s is outside the guest subnet %s",
                     ip_s(g->gateway).s, prefix_s(g->subnet).s);
        else if (g->gateway == prefix_network(g->subnet) ||
                 g->gateway == prefix_broadcast(g->subnet))
                verr(v, gateway_path(cfg), "gateway %s is the %s address of %s", ip_s(g->gateway).s,
                     g->gateway == prefix_network(g->subnet) ? "network" : "broadcast",
                     prefix_s(g->subnet).s);
        for (size_t i = 0; i < g->n_ports; i++) {
                if (!strcmp(g->ports[i], g->bridge))
                        verr(v, P(p, "guests.ports[%zu]", i), "%s is the bridge itself",
                             g->ports[i]);
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(g->ports[i], g->ports[j]))
                                verr(v, P(p, "guests.ports[%zu]", i),
                                     "%s is listed twice (also ports[%zu])", g->ports[i], j);
        }
}

static void check_dhcp_range(struct vctx *v)
{
        const struct nr_guests *g = &v->cfg->guests;
        const struct nr_dhcp *d = &g->dhcp;
        const char *p = "guests.dhcp.range";
        if (!d->range_start)
                return; /* parse error already reported */
        if (d->range_start > d->range_end) {
                verr(v, p, "range is reversed (%s comes after %s)", ip_s(d->range_start).s,
                     ip_s(d->range_end).s);
                return;
        }
        uint32_t first = prefix_first_host(g->subnet), last = prefix_last_host(g->subnet);
        if (d->range_start < first || d->range_end > last) {
                verr(v, p, "range %s-%s is not inside the usable addresses of %s (%s-%s)",
                     ip_s(d->range_start).s, ip_s(d->range_end).s, prefix_s(g->subnet).s,
                     ip_s(first).s, ip_s(last).s);
                return;
        }
        if (g->gateway >= d->range_start && g->gateway <= d->range_end)
                verr(v, p, "range contains the gateway %s", ip_s(g->gateway).s);
}

static void check_reservations(struct vctx *v)
{
        const struct nr_dhcp *d = &v->cfg->guests.dhcp;
        char p[YV_PATH_MAX];
        struct kidx ips, macs;
        kidx_init(&ips, d->n_reservations);
        kidx_init(&macs, d->n_reservations);
        for (size_t i = 0; i < d->n_reservations; i++) {
                const struct nr_reservation *r = &d->reservations[i];
                if (r->ip)
                        kidx_put(&ips, i, r->ip, NULL);
                if (r->has_mac)
                        kidx_put(&macs, i, mac_key(r->mac), NULL);
        }
        kidx_sort(&ips);
        kidx_sort(&macs);
        for (size_t i = 0; i < d->n_reservations; i++) {
                const struct nr_reservation *r = &d->reservations[i];
                if (r->ip)
                        check_guest_ip(v, r->ip, "guests.dhcp.reservations[%zu].ip", i);
                /* every earlier holder of the same value, in file order */
                for (size_t j = kidx_first(&ips, i); j != KIDX_NONE && j != i;
                     j = kidx_next(&ips, j))
                        verr(v, P(p, "guests.dhcp.reservations[%zu].ip", i),
                             "%s is also reserved by reservations[%zu]", ip_s(r->ip).s, j);
                for (size_t j = kidx_first(&macs, i); j != KIDX_NONE && j != i;
                     j = kidx_next(&macs, j))
                        verr(v, P(p, "guests.dhcp.reservations[%zu].mac", i),
                             "%s is also used by reservations[%zu]", mac_s(r->mac).s, j);
                for (size_t j = kidx_first(&v->res_names, i); j != KIDX_NONE && j != i;
                     j = kidx_next(&v->res_names, j))
                        verr(v, P(p, "guests.dhcp.reservations[%zu].name", i),
                             "name %s is also used by reservations[%zu]", r->name, j);
        }
        kidx_free(&ips);
        kidx_free(&macs);
        for (size_t i = 0; i < d->n_dns; i++)
                for (size_t j = 0; j < i; j++)
                        if (d->dns[i] == d->dns[j])
                                vwarn(v, P(p, "guests.dhcp.dns[%zu]", i), "%s is listed twice",
                                      ip_s(d->dns[i]).s);
}

/* ---- vms --------------------------------------------------------------------------------- */

/* The first reservation with this name; `names` indexes them by name. */
static const struct nr_reservation *res_by_name(const struct nr_dhcp *d, const struct kidx *names,
                                                const char *name)
{
        size_t i = kidx_find(names, kidx_str_key(name), name);
        return i == KIDX_NONE ? NULL : &d->reservations[i];
}

/* A VM with the same name as a reservation is the same host: they must agree. Any other
 * reservation sharing its address or MAC is a collision. */
static void check_vm_vs_reservations(struct vctx *v, size_t i)
{
        const struct nr_vm *vm = &v->cfg->vms[i];
        const struct nr_dhcp *d = &v->cfg->guests.dhcp;
        char p[YV_PATH_MAX];
        for (size_t j = 0; j < d->n_reservations; j++) {
                const struct nr_reservation *r = &d->reservations[j];
                bool same = r->name[0] && !strcmp(r->name, vm->name);
                if (vm->ip && r->ip == vm->ip && !same)
                        verr(v, P(p, "vms[%zu].ip", i), "%s is reserved for %s "
                             "(guests.dhcp.reservations[%zu])", ip_s(vm->ip).s,
                             r->name[0] ? r->name : "another host", j);
                if (r->has_mac && mac_eq(r->mac, vm->mac) && !same)
                        verr(v, P(p, "vms[%zu].mac", i), "%s is used by reservation %s "
                             "(guests.dhcp.reservations[%zu])", mac_s(vm->mac).s,
                             r->name[0] ? r->name : "without a name", j);
                if (same && vm->ip && r->ip != vm->ip)
                        verr(v, P(p, "vms[%zu].ip", i), "%s disagrees with reservation %s's "
                             "address %s", ip_s(vm->ip).s, r->name, ip_s(r->ip).s);
                if (same && r->has_mac && !mac_eq(r->mac, vm->mac))
                        verr(v, P(p, "vms[%zu].mac", i), "%s disagrees with reservation %s's "
                             "MAC %s", mac_s(vm->mac).s, r->name, mac_s(r->mac).s);
        }
}

static void check_vms(struct vctx *v)
{
        const struct nr_config *cfg = v->cfg;
        char p[YV_PATH_MAX];
        for (size_t i = 0; i < cfg->n_vms; i++) {
                const struct nr_vm *vm = &cfg->vms[i];
                if (vm->ip)
                        check_guest_ip(v, vm->ip, "vms[%zu].ip", i);
                for (size_t j = 0; j < i; j++) {
                        const struct nr_vm *o = &cfg->vms[j];
                        if (vm->name[0] && !strcmp(vm->name, o->name))
                                verr(v, P(p, "vms[%zu].name", i), "VM %s is defined twice "
                                     "(also vms[%zu])", vm->name, j);
                        else if (mac_eq(vm->mac, o->mac))
                                verr(v, P(p, "vms[%zu].mac", i), "%s is also %s's MAC",
                                     mac_s(vm->mac).s, o->name);
                        if (vm->ip && vm->ip == o->ip)
                                verr(v, P(p, "vms[%zu].ip", i), "%s is also %s's address",
                                     ip_s(vm->ip).s, o->name);
                        if (vm->disk && o->disk && !strcmp(vm->disk, o->disk))
                                verr(v, P(p, "vms[%zu].disk", i), "%s is also %s's disk",
                                     vm->disk, o->name);
                }
                check_vm_vs_reservations(v, i);
        }
}

/* ---- port_forwards ----------------------------------------------------------------------- */

static const char *const *name_candidates(const struct nr_config *cfg, size_t *n)
{
        static const char *names[256];
        size_t k = 0;
        for (size_t i = 0; i < cfg->guests.dhcp.n_reservations && k < 256; i++)
                if (cfg->guests.dhcp.reservations[i].name[0])
                        names[k++] = cfg->guests.dhcp.reservations[i].name;
        for (size_t i = 0; i < cfg->n_vms && k < 256; i++)
                names[k++] = cfg->vms[i].name;
        *n = k;
        return names;
}

/* `to: web1` names a reservation or a VM; either must carry an ip. */
static void resolve_target(struct vctx *v, size_t i, struct nr_port_forward *f)
{
        const struct nr_config *cfg = v->cfg;
        char p[YV_PATH_MAX];
        const struct nr_reservation *r =
                res_by_name(&cfg->guests.dhcp, &v->res_names, f->to_name);
        if (r) {
                f->to_ip = r->ip;
                return;
        }
        for (size_t j = 0; j < cfg->n_vms; j++) {
                if (strcmp(cfg->vms[j].name, f->to_name))
                        continue;
                if (!cfg->vms[j].ip)
                        verr(v, P(p, "port_forwards[%zu].to", i), "VM %s has no ip: give vms[%zu].ip so the forward has a "
                             "fixed target", f->to_name, j);
                f->to_ip = cfg->vms[j].ip;
                return;
        }
        size_t n;
        P(p, "port_forwards[%zu].to", i);
        const char *const *names = name_candidates(cfg, &n);
        const char *hint = yv_suggest(f->to_name, names, n);
        if (hint)
                verr(v, p, "no reservation or VM named '%s' (did you mean '%s'?)", f->to_name,
                     hint);
        else
                verr(v, p, "no reservation or VM named '%s'", f->to_name);
}

static void check_port_forwards(struct vctx *v)
{
        struct nr_config *cfg = v->cfg;
        char p[YV_PATH_MAX];
        struct kidx ports;
        if (cfg->n_port_forwards > NR_MAX_PORT_FORWARDS)
                verr(v, "port_forwards", "%zu forwards: at most %d", cfg->n_port_forwards,
                     NR_MAX_PORT_FORWARDS);
        kidx_init(&ports, cfg->n_port_forwards);
        for (size_t i = 0; i < cfg->n_port_forwards; i++)
                if (cfg->port_forwards[i].port)
                        kidx_put(&ports, i,
                                 (uint64_t)cfg->port_forwards[i].proto << 16 |
                                         cfg->port_forwards[i].port,
                                 NULL);
        kidx_sort(&ports);
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                struct nr_port_forward *f = &cfg->port_forwards[i];
                if (f->to_name[0])
                        resolve_target(v, i, f);
                if (f->to_ip)
                        check_guest_ip(v, f->to_ip, "port_forwards[%zu].to", i);
                for (size_t j = kidx_first(&ports, i); j != KIDX_NONE && j != i;
                     j = kidx_next(&ports, j))
                        verr(v, P(p, "port_forwards[%zu].port", i),
                             "%s port %u is already forwarded by port_forwards[%zu]",
                             cfg_proto_name(f->proto), f->port, j);
                for (size_t k = 0; k < f->n_from; k++)
                        for (size_t j = 0; j < k; j++)
                                if (prefix_valid(f->from[k]) && prefix_valid(f->from[j]) &&
                                    prefix_overlaps(f->from[k], f->from[j]))
                                        vwarn(v, P(p, "port_forwards[%zu].from[%zu]", i, k),
                                              "%s overlaps from[%zu] %s", prefix_s(f->from[k]).s,
                                              j, prefix_s(f->from[j]).s);
                if (f->proto == NR_PROTO_TCP && f->port == 22 && cfg->firewall.ssh)
                        vwarn(v, P(p, "port_forwards[%zu].port", i),
                              "forwarding tcp port 22 hides SSH to the appliance itself on the "
                              "uplink addresses");
        }
        kidx_free(&ports);
}

int cfg_validate(struct nr_config *cfg, struct nr_diags *diags)
{
        struct vctx v = {.cfg = cfg, .d = diags};
        const struct nr_dhcp *d = &cfg->guests.dhcp;
        size_t errs = diags->n_errors;
        kidx_init(&v.res_names, d->n_reservations);
        for (size_t i = 0; i < d->n_reservations; i++)
                if (d->reservations[i].name[0])
                        kidx_put(&v.res_names, i, kidx_str_key(d->reservations[i].name),
                                 d->reservations[i].name);
        kidx_sort(&v.res_names);
        check_uplinks(&v);
        if (cfg->guests.subnet.len) {
                check_guest_subnet(&v);
                check_dhcp_range(&v);
                check_reservations(&v);
        }
        check_vms(&v);
        check_port_forwards(&v);
        kidx_free(&v.res_names);
        cfg_validate_bgp(cfg, diags);
        return diags->n_errors == errs ? 0 : -EINVAL;
}

int cfg_check_text(const char *file, const char *text, size_t len, struct nr_config *cfg,
                   struct nr_diags *diags)
{
        int r = cfg_parse_borrowed(file, text, len, cfg, diags);
        if (r == -EBADMSG) {
                pos_free(&cfg->pos);
                return r;
        }
        int v = cfg_validate(cfg, diags);
        /* the key positions serve only this check's diagnostics (and are there at all only
         * when one asked): the config outlives the text they were read from */
        pos_free(&cfg->pos);
        return r < 0 ? r : v;
}

int cfg_load_checked(const char *file, struct nr_config *cfg, struct nr_diags *diags)
{
        int r = cfg_load(file, cfg, diags);
        if (r == -EBADMSG)
                return r; /* unreadable or not YAML: nothing to check across fields */
        int v = cfg_validate(cfg, diags);
        return r < 0 ? r : v;
}
