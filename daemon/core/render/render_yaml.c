/* The normalized config (`nestrouterd --check -v`): every key with its default filled in, in a
 * fixed order, as YAML that parses back to the same config. */
#include <inttypes.h>
#include <stdio.h>

#include "core/render/render_text.h"
#include "core/lib/strbuf.h"

static void put_duration(struct nr_buf *b, uint32_t s)
{
        if (s == 0)
                buf_puts(b, "infinite");
        else if (s % 86400 == 0)
                buf_printf(b, "%ud", s / 86400);
        else if (s % 3600 == 0)
                buf_printf(b, "%uh", s / 3600);
        else if (s % 60 == 0)
                buf_printf(b, "%um", s / 60);
        else
                buf_printf(b, "%us", s);
}

static void put_size(struct nr_buf *b, uint64_t v)
{
        if (v % (1ull << 30) == 0)
                buf_printf(b, "%" PRIu64 "GiB", v >> 30);
        else
                buf_printf(b, "%" PRIu64 "MiB", v >> 20);
}

/* YAML double-quoted scalar: always safe, whatever the path holds. */
static void put_quoted(struct nr_buf *b, const char *s)
{
        buf_puts(b, "\"");
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        buf_printf(b, "\\%c", *s);
                else if ((unsigned char)*s < 0x20)
                        buf_printf(b, "\\x%02x", (unsigned char)*s);
                else
                        buf_printf(b, "%c", *s);
        }
        buf_puts(b, "\"");
}

static void put_opt(struct nr_buf *b, const char *key, const char *value)
{
        if (!value)
                return;
        buf_printf(b, "    %s: ", key);
        put_quoted(b, value);
        buf_puts(b, "\n");
}

/* text as a quoted scalar at cloud_init's depth: round-trips any text */
static void put_block(struct nr_buf *b, const char *key, const char *text)
{
        if (!text)
                return;
        buf_printf(b, "      %s: ", key);
        put_quoted(b, text);
        buf_puts(b, "\n");
}

static void put_prefixes(struct nr_buf *b, const struct nr_prefix *p, size_t n)
{
        buf_puts(b, "[");
        for (size_t i = 0; i < n; i++)
                buf_printf(b, "%s%s", i ? ", " : "", prefix_s(p[i]).s);
        buf_puts(b, "]");
}

static void put_uplink(struct nr_buf *b, const struct nr_uplink *u, const char *name)
{
        buf_printf(b, "  %s:\n", name);
        switch (u->match.kind) {
        case NR_MATCH_MAC:
                buf_printf(b, "    match: {mac: \"%s\"}\n", mac_s(u->match.mac).s);
                break;
        case NR_MATCH_AZURE_PRIMARY:
                buf_puts(b, "    match: {azure: primary}\n");
                break;
        case NR_MATCH_AZURE_SUBNET:
                buf_printf(b, "    match: {azure_subnet: %s}\n", prefix_s(u->match.azure_subnet).s);
                break;
        case NR_MATCH_NAME:
        case NR_MATCH_NONE:
                buf_printf(b, "    match: {name: %s}\n", u->match.name);
                break;
        }
        if (u->dhcp) {
                buf_puts(b, "    address: dhcp\n");
                if (u->gateway_set)
                        buf_printf(b, "    gateway: %s\n", ip_s(u->gateway).s);
        } else {
                buf_printf(b, "    address: %s\n", prefix_s(u->address).s);
                buf_printf(b, "    gateway: %s\n", ip_s(u->gateway).s);
        }
        buf_puts(b, "    routes: ");
        put_prefixes(b, u->routes, u->n_routes);
        buf_printf(b, "\n    table: %u\n", u->table);
}

static void put_guests(struct nr_buf *b, const struct nr_guests *g)
{
        const struct nr_dhcp *d = &g->dhcp;
        buf_printf(b, "guests:\n  bridge: %s\n  subnet: %s\n  gateway: %s\n", g->bridge,
                   prefix_s(g->subnet).s, ip_s(g->gateway).s);
        if (g->mtu)
                buf_printf(b, "  mtu: %u\n", g->mtu);
        buf_puts(b, "  ports: [");
        for (size_t i = 0; i < g->n_ports; i++)
                buf_printf(b, "%s%s", i ? ", " : "", g->ports[i]);
        buf_printf(b, "]\n  isolation: %s", g->isolation ? "true" : "false");
        buf_printf(b, "\n  dhcp:\n    enabled: %s\n    range: %s-%s\n    lease_time: ",
                   d->enabled ? "true" : "false", ip_s(d->range_start).s, ip_s(d->range_end).s);
        put_duration(b, d->lease_time);
        buf_puts(b, "\n    dynamic_lease_time: ");
        put_duration(b, d->dynamic_lease_time);
        buf_printf(b, "\n    max_leases: %u", d->max_leases);
        buf_printf(b, "\n    ping_check: %s", d->ping_check ? "true" : "false");
        buf_puts(b, "\n    dns: [");
        for (size_t i = 0; i < d->n_dns; i++)
                buf_printf(b, "%s%s", i ? ", " : "", ip_s(d->dns[i]).s);
        buf_puts(b, "]\n");
        if (d->domain[0])
                buf_printf(b, "    domain: %s\n", d->domain);
        buf_printf(b, "    reservations:%s\n", d->n_reservations ? "" : " []");
        for (size_t i = 0; i < d->n_reservations; i++) {
                const struct nr_reservation *r = &d->reservations[i];
                buf_puts(b, "      - {");
                if (r->name[0])
                        buf_printf(b, "name: %s, ", r->name);
                buf_printf(b, "mac: \"%s\", ip: %s}\n", mac_s(r->mac).s, ip_s(r->ip).s);
        }
}

static void put_forwards(struct nr_buf *b, const struct nr_config *cfg)
{
        buf_printf(b, "port_forwards:%s\n", cfg->n_port_forwards ? "" : " []");
        for (size_t i = 0; i < cfg->n_port_forwards; i++) {
                const struct nr_port_forward *f = &cfg->port_forwards[i];
                buf_printf(b, "  - {proto: %s, port: %u, to: %s, to_port: %u", cfg_proto_name(f->proto),
                           f->port, f->to_name[0] ? f->to_name : ip_s(f->to_ip).s, f->to_port);
                if (f->n_from) {
                        buf_puts(b, ", from: ");
                        put_prefixes(b, f->from, f->n_from);
                }
                buf_puts(b, "}\n");
        }
}

static void put_vms(struct nr_buf *b, const struct nr_config *cfg)
{
        buf_printf(b, "vms:%s\n", cfg->n_vms ? "" : " []");
        for (size_t i = 0; i < cfg->n_vms; i++) {
                const struct nr_vm *vm = &cfg->vms[i];
                buf_printf(b, "  - name: %s\n", vm->name);
                put_opt(b, "disk", vm->disk);
                if (vm->disk)
                        buf_printf(b, "    format: %s\n", cfg_disk_format_name(vm->disk_format));
                put_opt(b, "kernel", vm->kernel);
                put_opt(b, "initrd", vm->initrd);
                put_opt(b, "cmdline", vm->cmdline);
                buf_printf(b, "    vcpus: %u\n    memory: ", vm->vcpus);
                put_size(b, vm->memory);
                buf_printf(b, "\n    mac: \"%s\"\n", mac_s(vm->mac).s);
                if (vm->ip)
                        buf_printf(b, "    ip: %s\n", ip_s(vm->ip).s);
                buf_printf(b, "    cpu: %s\n    autostart: %s\n",
                           vm->cpu_mode == NR_CPU_NAMED ? vm->cpu_model
                                                        : cfg_cpu_mode_name(vm->cpu_mode),
                           vm->autostart ? "true" : "false");
                buf_printf(b, "    firmware: %s\n    secure_boot: %s\n    tpm: %s\n"
                              "    os: %s\n    devices: %s\n",
                           cfg_firmware_name(vm->firmware), vm->secure_boot ? "true" : "false",
                           vm->tpm ? "true" : "false", cfg_guest_os_name(vm->os),
                           cfg_guest_devices_name(vm->devices));
                put_opt(b, "base", vm->base);
                if (vm->disk_size) {
                        buf_puts(b, "    disk_size: ");
                        put_size(b, vm->disk_size);
                        buf_puts(b, "\n");
                }
                if (vm->n_disks)
                        buf_puts(b, "    disks:\n");
                for (size_t k = 0; k < vm->n_disks; k++) {
                        if (vm->disks[k].path) {
                                buf_puts(b, "      - ");
                                put_quoted(b, vm->disks[k].path);
                                buf_puts(b, "\n");
                        } else {
                                buf_puts(b, "      - size: ");
                                put_size(b, vm->disks[k].size);
                                buf_puts(b, "\n");
                        }
                }
                if (vm->cloud_init.set) {
                        const struct nr_cloud_init *ci = &vm->cloud_init;
                        buf_puts(b, "    cloud_init:\n");
                        put_block(b, "user_data", ci->user_data);
                        put_opt(b, "  user_data_file", ci->user_data_file);
                        put_block(b, "network_config", ci->network_config);
                        put_opt(b, "  network_config_file", ci->network_config_file);
                }
                if (vm->n_cdroms)
                        buf_puts(b, "    cdrom:\n");
                for (size_t k = 0; k < vm->n_cdroms; k++) {
                        buf_puts(b, "      - ");
                        put_quoted(b, vm->cdroms[k]);
                        buf_puts(b, "\n");
                }
        }
}

static void put_azname(struct nr_buf *b, const char *key, const char *v)
{
        if (v[0])
                buf_printf(b, "  %s: \"%s\"\n", key, v);
}

static void put_azure(struct nr_buf *b, const struct nr_azure *a)
{
        if (!a->present)
                return;
        buf_puts(b, "azure:\n");
        put_azname(b, "resource_group", a->resource_group);
        put_azname(b, "location", a->location);
        put_azname(b, "vnet", a->vnet);
        put_azname(b, "route_table", a->route_table);
        buf_puts(b, "  subnets: [");
        for (size_t i = 0; i < a->n_subnets; i++)
                buf_printf(b, "%s\"%s\"", i ? ", " : "", a->subnets[i]);
        buf_printf(b, "]\n  gateway_subnet: %s\n", a->gateway_subnet ? "true" : "false");
        put_azname(b, "lan_nic", a->lan_nic);
        put_azname(b, "vm_name", a->vm_name);
        buf_printf(b, "  scheduled_events: %s\n  event_shutdown_timeout: ",
                   a->scheduled_events ? "true" : "false");
        put_duration(b, a->event_shutdown_timeout);
        buf_puts(b, "\n");
        if (a->n_address_space) {
                buf_puts(b, "  address_space: ");
                put_prefixes(b, a->address_space, a->n_address_space);
                buf_puts(b, "\n");
        }
        put_azname(b, "route_server", a->route_server);
        if (a->route_server_subnet.len)
                buf_printf(b, "  route_server_subnet: %s\n", prefix_s(a->route_server_subnet).s);
        buf_printf(b, "  branch_to_branch: %s\n", a->branch_to_branch ? "true" : "false");
}

static void put_bgp(struct nr_buf *b, const struct nr_bgp *g)
{
        if (!g->present)
                return;
        buf_printf(b, "bgp:\n  asn: %u\n  peer_asn: %u\n  peers: [", g->asn, g->peer_asn);
        for (size_t i = 0; i < g->n_peers; i++)
                buf_printf(b, "%s%s", i ? ", " : "", ip_s(g->peers[i]).s);
        buf_puts(b, "]\n");
        if (g->router_id)
                buf_printf(b, "  router_id: %s\n", ip_s(g->router_id).s);
        buf_puts(b, "  hold_time: ");
        put_duration(b, g->hold_time);
        buf_puts(b, "\n  keepalive: ");
        put_duration(b, g->keepalive);
        buf_printf(b, "\n  multihop: %u\n  advertise: ", g->multihop);
        put_prefixes(b, g->advertise, g->n_advertise);
        buf_printf(b, "\n  prepend: %u\n  install_routes: %s\n", g->prepend,
                   g->install_routes ? "true" : "false");
}

char *render_config_yaml(const struct nr_config *cfg)
{
        struct nr_buf b = {0};
        buf_printf(&b, "version: %d\nuplinks:\n", cfg->version);
        for (int r = 0; r < NR_UPLINK_COUNT; r++)
                if (cfg->uplinks[r].present)
                        put_uplink(&b, &cfg->uplinks[r], cfg_uplink_name(r));
        put_guests(&b, &cfg->guests);
        put_forwards(&b, cfg);
        put_vms(&b, cfg);
        buf_printf(&b, "firewall:\n  ssh: %s\n  ssh_from: ", cfg->firewall.ssh ? "true" : "false");
        put_prefixes(&b, cfg->firewall.ssh_from, cfg->firewall.n_ssh_from);
        buf_printf(&b, "\n  block_metadata: %s\n", cfg->firewall.block_metadata ? "true" : "false");
        buf_printf(&b, "router:\n  route_protocol: %u\n  rule_priority: %u\n",
                   cfg->router.route_protocol, cfg->router.rule_priority);
        buf_printf(&b, "libvirt:\n  uri: \"%s\"\n  accel: %s\n  shutdown_timeout: ", cfg->libvirt.uri,
                   cfg_accel_name(cfg->libvirt.accel));
        put_duration(&b, cfg->libvirt.shutdown_timeout);
        buf_puts(&b, "\n");
        put_azure(&b, &cfg->azure);
        if (cfg->metrics.textfile[0])
                buf_printf(&b, "metrics:\n  textfile: \"%s\"\n  interval: ", cfg->metrics.textfile);
        else
                buf_puts(&b, "metrics:\n  textfile: false\n  interval: ");
        put_duration(&b, cfg->metrics.interval);
        buf_puts(&b, "\n  scrape_from: ");
        put_prefixes(&b, cfg->metrics.scrape_from, cfg->metrics.n_scrape_from);
        buf_printf(&b, "\n  scrape_port: %u\n", cfg->metrics.scrape_port);
        put_bgp(&b, &cfg->bgp);
        return buf_finish(&b);
}
