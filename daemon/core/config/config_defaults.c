/* Defaults that depend on other fields (the others are in the schema's rows), names of enum
 * values, and freeing a config. */
#include <stdlib.h>
#include <string.h>

#include "core/config/config.h"

const char *cfg_uplink_name(enum nr_uplink_role role)
{
        switch (role) {
        case NR_UPLINK_NAT:
                return "nat";
        case NR_UPLINK_LAN:
                return "lan";
        case NR_UPLINK_COUNT:
                break;
        }
        return "?";
}

const char *cfg_proto_name(enum nr_proto p)
{
        switch (p) {
        case NR_PROTO_TCP:
                return "tcp";
        case NR_PROTO_UDP:
                return "udp";
        }
        return "?";
}

const char *cfg_cpu_mode_name(enum nr_cpu_mode m)
{
        switch (m) {
        case NR_CPU_HOST_MODEL:
                return "host-model";
        case NR_CPU_HOST_PASSTHROUGH:
                return "host-passthrough";
        case NR_CPU_NAMED:
                return "named";
        }
        return "?";
}

const char *cfg_accel_name(enum nr_accel a)
{
        switch (a) {
        case NR_ACCEL_AUTO:
                return "auto";
        case NR_ACCEL_KVM:
                return "kvm";
        case NR_ACCEL_TCG:
                return "tcg";
        }
        return "?";
}

const char *cfg_firmware_name(enum nr_firmware f)
{
        switch (f) {
        case NR_FW_AUTO:
                return "auto";
        case NR_FW_BIOS:
                return "bios";
        case NR_FW_UEFI:
                return "uefi";
        }
        return "?";
}

const char *cfg_guest_os_name(enum nr_guest_os o)
{
        switch (o) {
        case NR_OS_LINUX:
                return "linux";
        case NR_OS_WINDOWS:
                return "windows";
        }
        return "?";
}

const char *cfg_guest_devices_name(enum nr_guest_devices d)
{
        switch (d) {
        case NR_DEVICES_VIRTIO:
                return "virtio";
        case NR_DEVICES_COMPAT:
                return "compat";
        }
        return "?";
}

const char *cfg_disk_format_name(enum nr_disk_format f)
{
        switch (f) {
        case NR_DISK_QCOW2:
                return "qcow2";
        case NR_DISK_RAW:
                return "raw";
        case NR_DISK_VHD:
                return "vhd";
        case NR_DISK_VHDX:
                return "vhdx";
        }
        return "?";
}

void cfg_vm_default_mac(const char *name, uint8_t mac[6])
{
        uint32_t h = 2166136261u; /* FNV-1a: stable across versions and machines */
        for (const char *p = name; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
        mac[0] = 0x52;
        mac[1] = 0x54;
        mac[2] = 0x00;
        mac[3] = (uint8_t)(h >> 16);
        mac[4] = (uint8_t)(h >> 8);
        mac[5] = (uint8_t)h;
}

static void dhcp_default_range(struct nr_guests *g)
{
        struct nr_dhcp *d = &g->dhcp;
        uint32_t first = prefix_first_host(g->subnet), last = prefix_last_host(g->subnet);
        if (d->range_start || d->range_end)
                return;
        if (g->gateway < first || g->gateway > last) {
                d->range_start = first; /* validation reports the gateway */
                d->range_end = last;
        } else if (g->gateway - first >= last - g->gateway) {
                d->range_start = first; /* the larger side of the gateway */
                d->range_end = g->gateway == first ? first : g->gateway - 1;
        } else {
                d->range_start = g->gateway + 1;
                d->range_end = last;
        }
}

/* A VM named like a reservation is that host: what the VM leaves out, the reservation gives. */
static void vm_from_reservation(const struct nr_dhcp *d, struct nr_vm *vm)
{
        for (size_t i = 0; i < d->n_reservations; i++) {
                const struct nr_reservation *r = &d->reservations[i];
                if (!r->name[0] || strcmp(r->name, vm->name))
                        continue;
                if (!vm->mac_set && r->has_mac) {
                        memcpy(vm->mac, r->mac, 6);
                        vm->mac_set = true;
                }
                if (!vm->ip)
                        vm->ip = r->ip;
        }
}

void cfg_fill_defaults(struct nr_config *cfg)
{
        static const uint32_t tables[NR_UPLINK_COUNT] = {1001, 1002};
        for (int i = 0; i < NR_UPLINK_COUNT; i++) {
                struct nr_uplink *u = &cfg->uplinks[i];
                if (!u->present)
                        continue;
                if (!u->dhcp && !u->gateway_set && u->address.len < 31)
                        u->gateway = prefix_first_host(u->address);
                if (!u->table)
                        u->table = tables[i];
        }
        struct nr_guests *g = &cfg->guests;
        if (!g->gateway && g->subnet.len)
                g->gateway = prefix_first_host(g->subnet);
        if (g->subnet.len)
                dhcp_default_range(g);
        if (!g->dhcp.dynamic_lease_set) {
                g->dhcp.dynamic_lease_time = g->dhcp.lease_time;
                g->dhcp.dynamic_lease_set = true;
        }
        if (!g->dhcp.max_leases && g->dhcp.range_start && g->dhcp.range_end >= g->dhcp.range_start)
                g->dhcp.max_leases = g->dhcp.range_end - g->dhcp.range_start + 1;
        if (!g->dhcp.dns_set) {
                free(g->dhcp.dns); /* `dns:` with nothing after it reads as "not set" */
                g->dhcp.dns = calloc(1, sizeof(*g->dhcp.dns));
                if (g->dhcp.dns) {
                        g->dhcp.dns[0] = g->gateway;
                        g->dhcp.n_dns = 1;
                }
                g->dhcp.dns_set = true;
        }
        cfg_bgp_defaults(cfg);
        for (size_t i = 0; i < cfg->n_port_forwards; i++)
                if (!cfg->port_forwards[i].to_port)
                        cfg->port_forwards[i].to_port = cfg->port_forwards[i].port;
        for (size_t i = 0; i < cfg->n_vms; i++) {
                struct nr_vm *vm = &cfg->vms[i];
                vm_from_reservation(&g->dhcp, vm);
                if (!vm->mac_set) {
                        cfg_vm_default_mac(vm->name, vm->mac);
                        vm->mac_set = true;
                }
        }
}

void cfg_free(struct nr_config *cfg)
{
        if (!cfg)
                return;
        free(cfg->file);
        for (int i = 0; i < NR_UPLINK_COUNT; i++)
                free(cfg->uplinks[i].routes);
        free(cfg->guests.ports);
        free(cfg->guests.dhcp.dns);
        free(cfg->guests.dhcp.reservations);
        for (size_t i = 0; i < cfg->n_port_forwards; i++)
                free(cfg->port_forwards[i].from);
        free(cfg->port_forwards);
        for (size_t i = 0; i < cfg->n_vms; i++) {
                free(cfg->vms[i].disk);
                free(cfg->vms[i].kernel);
                free(cfg->vms[i].initrd);
                free(cfg->vms[i].cmdline);
                free(cfg->vms[i].base);
                free(cfg->vms[i].cloud_init.user_data);
                free(cfg->vms[i].cloud_init.user_data_file);
                free(cfg->vms[i].cloud_init.network_config);
                free(cfg->vms[i].cloud_init.network_config_file);
                for (size_t k = 0; k < cfg->vms[i].n_disks; k++)
                        free(cfg->vms[i].disks[k].path);
                free(cfg->vms[i].disks);
                for (size_t k = 0; k < cfg->vms[i].n_cdroms; k++)
                        free(cfg->vms[i].cdroms[k]);
                free(cfg->vms[i].cdroms);
        }
        free(cfg->azure.subnets);
        free(cfg->azure.address_space);
        free(cfg->bgp.peers);
        free(cfg->bgp.advertise);
        free(cfg->vms);
        free(cfg->firewall.ssh_from);
        free(cfg->metrics.scrape_from);
        pos_free(&cfg->pos);
        memset(cfg, 0, sizeof(*cfg));
}
