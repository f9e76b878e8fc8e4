/* The guest side of the config: guests (bridge, subnet, DHCP, reservations), port_forwards and
 * vms. Values are checked one by one here; how they fit together is validate.c's job. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/config_walk.h"

/* ---- guests.dhcp ------------------------------------------------------------------------- */

static void k_dhcp_enabled(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_dhcp *)o)->enabled);
}

static void k_dhcp_ping(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_dhcp *)o)->ping_check);
}

static void k_dhcp_range(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_dhcp *d = o;
        if (!yv_want_scalar(&c->yv, v, p, "a range like 10.0.2.100-10.0.2.200"))
                return;
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", yv_str(v));
        char *dash = strchr(buf, '-');
        if (dash)
                *dash = '\0';
        if (!dash || ip_parse(buf, &d->range_start) < 0 || ip_parse(dash + 1, &d->range_end) < 0 ||
            !d->range_start || !d->range_end) {
                yv_error(&c->yv, v, p, "'%s' is not a range (like 10.0.2.100-10.0.2.200)",
                         yv_str(v));
                d->range_start = d->range_end = 0;
        }
}

/* A lease time: a duration of at least 2 minutes, or 0 (infinite). */
static bool dhcp_lease_value(struct pctx *c, yaml_node_t *v, const char *p, uint32_t *t)
{
        if (!yv_duration(&c->yv, v, p, t))
                return false;
        if (*t != 0 && *t < 120) {
                /* dnsmasq's own floor; shorter leases would silently become 2 minutes */
                yv_error(&c->yv, v, p, "a lease must last at least 2m (or be infinite)");
                return false;
        }
        return true;
}

static void k_dhcp_lease(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_dhcp *d = o;
        uint32_t t;
        if (dhcp_lease_value(c, v, p, &t))
                d->lease_time = t;
}

static void k_dhcp_dyn_lease(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_dhcp *d = o;
        uint32_t t;
        if (!dhcp_lease_value(c, v, p, &t))
                return;
        d->dynamic_lease_time = t;
        d->dynamic_lease_set = true;
}

static void k_dhcp_max(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        /* dnsmasq keeps every lease in memory; 2^20 is far beyond any bridge */
        if (yv_int(&c->yv, v, p, 1, 1 << 20, &x))
                ((struct nr_dhcp *)o)->max_leases = (uint32_t)x;
}

static void k_dhcp_dns(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_dhcp *d = o;
        char sub[YV_PATH_MAX];
        d->n_dns = cw_seq_len(c, v, p);
        d->dns = cw_calloc(d->n_dns, sizeof(*d->dns));
        d->dns_set = !yv_is_null(v); /* `dns: []`: no DNS server option at all */
        for (size_t i = 0; i < d->n_dns; i++) {
                yaml_node_t *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                cw_pos(c, sub, it);
                yv_ip(&c->yv, it, sub, &d->dns[i]);
        }
}

static void k_dhcp_domain(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_domain(&c->yv, v, p, ((struct nr_dhcp *)o)->domain, NR_NAME_MAX);
}

static void k_res_name(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_name(&c->yv, v, p, ((struct nr_reservation *)o)->name, NR_NAME_MAX);
}

static void k_res_mac(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_reservation *r = o;
        r->has_mac = yv_mac(&c->yv, v, p, r->mac);
}

static void k_res_ip(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_ip(&c->yv, v, p, &((struct nr_reservation *)o)->ip);
}

static void k_dhcp_res(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        static const struct keydef keys[] = {
                {"name", k_res_name, false},
                {"mac", k_res_mac, true},
                {"ip", k_res_ip, true},
                {0},
        };
        struct nr_dhcp *d = o;
        size_t n = cw_seq_len(c, v, p);
        d->reservations = cw_calloc(n, sizeof(*d->reservations));
        d->n_reservations = cw_list(c, v, p, d->reservations, sizeof(*d->reservations), keys);
}

static void k_g_dhcp(struct pctx *c, yaml_node_t *v, const char *path, void *o)
{
        static const struct keydef keys[] = {
                {"enabled", k_dhcp_enabled, false},
                {"range", k_dhcp_range, false},
                {"lease_time", k_dhcp_lease, false},
                {"dynamic_lease_time", k_dhcp_dyn_lease, false},
                {"max_leases", k_dhcp_max, false},
                {"ping_check", k_dhcp_ping, false},
                {"dns", k_dhcp_dns, false},
                {"domain", k_dhcp_domain, false},
                {"reservations", k_dhcp_res, false},
                {0},
        };
        cw_map(c, v, path, keys, &((struct nr_guests *)o)->dhcp);
}

/* ---- guests ------------------------------------------------------------------------------ */

static void k_g_bridge(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_ifname(&c->yv, v, p, ((struct nr_guests *)o)->bridge);
}

static void k_g_subnet(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_guests *g = o;
        if (!yv_subnet(&c->yv, v, p, &g->subnet)) {
                g->subnet = (struct nr_prefix){0}; /* "no subnet": guest checks are skipped */
                return;
        }
        if (g->subnet.len > 30 || g->subnet.len < 8) {
                yv_error(&c->yv, v, p, "a guest subnet must be /8 to /30, not /%u",
                         g->subnet.len);
                g->subnet = (struct nr_prefix){0};
        }
}

static void k_g_gateway(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_ip(&c->yv, v, p, &((struct nr_guests *)o)->gateway);
}

static void k_g_mtu(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (yv_int(&c->yv, v, p, 576, 65535, &x))
                ((struct nr_guests *)o)->mtu = (uint32_t)x;
}

static void k_g_isolation(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_guests *)o)->isolation);
}

static void k_g_ports(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_guests *g = o;
        char sub[YV_PATH_MAX];
        g->n_ports = cw_seq_len(c, v, p);
        g->ports = cw_calloc(g->n_ports, sizeof(*g->ports));
        for (size_t i = 0; i < g->n_ports; i++) {
                yaml_node_t *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                cw_pos(c, sub, it);
                yv_ifname(&c->yv, it, sub, g->ports[i]);
        }
}

void cfg_k_guests(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"bridge", k_g_bridge, false},
                {"subnet", k_g_subnet, true},
                {"gateway", k_g_gateway, false},
                {"mtu", k_g_mtu, false},
                {"ports", k_g_ports, false},
                {"dhcp", k_g_dhcp, false},
                {"isolation", k_g_isolation, false},
                {0},
        };
        (void)obj;
        cw_map(c, v, path, keys, &c->cfg->guests);
}

/* ---- port_forwards ----------------------------------------------------------------------- */

static void k_pf_proto(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_port_forward *f = o;
        if (!yv_want_scalar(&c->yv, v, p, "tcp or udp"))
                return;
        if (!strcmp(yv_str(v), "tcp"))
                f->proto = NR_PROTO_TCP;
        else if (!strcmp(yv_str(v), "udp"))
                f->proto = NR_PROTO_UDP;
        else
                yv_error(&c->yv, v, p, "proto must be tcp or udp, not '%s'", yv_str(v));
}

static void get_port(struct pctx *c, yaml_node_t *v, const char *p, uint16_t *out)
{
        long long x;
        if (yv_int(&c->yv, v, p, 1, 65535, &x))
                *out = (uint16_t)x;
}

static void k_pf_port(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        get_port(c, v, p, &((struct nr_port_forward *)o)->port);
}

static void k_pf_to_port(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        get_port(c, v, p, &((struct nr_port_forward *)o)->to_port);
}

static void k_pf_to(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_port_forward *f = o;
        if (!yv_want_scalar(&c->yv, v, p, "a guest address or a reservation/VM name"))
                return;
        const char *s = yv_str(v);
        if (ip_parse(s, &f->to_ip) == 0) {
                if (f->to_ip == 0 || f->to_ip == 0xffffffffu) {
                        yv_error(&c->yv, v, p, "%s is not a host address", s);
                        f->to_ip = 0;
                }
                return;
        }
        if (strspn(s, "0123456789.") == strlen(s)) {
                yv_error(&c->yv, v, p, "'%s' is not an IPv4 address", s);
                return;
        }
        yv_name(&c->yv, v, p, f->to_name, NR_NAME_MAX);
}

static void k_pf_from(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_port_forward *f = o;
        f->n_from = cw_prefix_list(c, v, p, &f->from);
}

void cfg_k_port_forwards(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"proto", k_pf_proto, false},
                {"port", k_pf_port, true},
                {"to", k_pf_to, true},
                {"to_port", k_pf_to_port, false},
                {"from", k_pf_from, false},
                {0},
        };
        struct nr_config *cfg = c->cfg;
        (void)obj;
        size_t n = cw_seq_len(c, v, path);
        cfg->port_forwards = cw_calloc(n, sizeof(*cfg->port_forwards));
        cfg->n_port_forwards =
                cw_list(c, v, path, cfg->port_forwards, sizeof(*cfg->port_forwards), keys);
}

/* ---- vms --------------------------------------------------------------------------------- */

static void k_vm_name(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_name(&c->yv, v, p, ((struct nr_vm *)o)->name, NR_NAME_MAX);
}

static bool disk_format_parse(const char *s, enum nr_disk_format *f)
{
        static const char *const names[] = {"qcow2", "raw", "vhd", "vhdx"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
                if (!strcmp(s, names[i]))
                        return *f = (enum nr_disk_format)i, true;
        return false;
}

static void k_vm_disk(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        if (!yv_want_scalar(&c->yv, v, p, "a disk image path"))
                return;
        const char *s = yv_str(v);
        if (s[0] != '/') {
                yv_error(&c->yv, v, p, "'%s' is not an absolute path", s);
                return;
        }
        vm->disk = strdup(s);
        const char *dot = strrchr(s, '.');
        enum nr_disk_format f;
        if (vm->format_set)
                return; /* `format:` came first and wins */
        if (dot && disk_format_parse(dot + 1, &f))
                vm->disk_format = f;
        else if (dot && !strcmp(dot, ".img"))
                vm->disk_format = NR_DISK_RAW;
        else
                vm->disk_format = (enum nr_disk_format)-1; /* needs `format:` */
}

static char *abs_path(struct pctx *c, yaml_node_t *v, const char *p, const char *what)
{
        if (!yv_want_scalar(&c->yv, v, p, what))
                return NULL;
        if (yv_str(v)[0] != '/') {
                yv_error(&c->yv, v, p, "'%s' is not an absolute path", yv_str(v));
                return NULL;
        }
        return strdup(yv_str(v));
}

static void k_vm_kernel(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_vm *)o)->kernel = abs_path(c, v, p, "a kernel image path");
}

static void k_vm_initrd(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_vm *)o)->initrd = abs_path(c, v, p, "an initramfs path");
}

static void k_vm_cmdline(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        if (!yv_want_scalar(&c->yv, v, p, "a kernel command line"))
                return;
        if (strlen(yv_str(v)) > 2048 || strpbrk(yv_str(v), "\n\r")) {
                yv_error(&c->yv, v, p, "a kernel command line is one line of at most 2048 bytes");
                return;
        }
        vm->cmdline = strdup(yv_str(v));
}

static void k_vm_format(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        if (!yv_want_scalar(&c->yv, v, p, "qcow2, raw, vhd or vhdx"))
                return;
        if (!disk_format_parse(yv_str(v), &vm->disk_format))
                yv_error(&c->yv, v, p, "format must be qcow2, raw, vhd or vhdx, not '%s'",
                         yv_str(v));
        else
                vm->format_set = true;
}

static void k_vm_vcpus(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (!yv_want_scalar(&c->yv, v, p, "a number of vCPUs"))
                return;
        if (!strcmp(yv_str(v), "0")) {
                yv_error(&c->yv, v, p, "a VM needs at least 1 vCPU");
                return;
        }
        if (!yv_int(&c->yv, v, p, 1, 512, &x))
                return;
        ((struct nr_vm *)o)->vcpus = (uint32_t)x;
}

static void k_vm_memory(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        if (!yv_size(&c->yv, v, p, &vm->memory))
                return;
        if (vm->memory < (16u << 20)) {
                yv_error(&c->yv, v, p, "a VM needs at least 16MiB of memory");
                vm->memory = 1ull << 30; /* keep later checks quiet about a value already wrong */
        }
        else if (vm->memory % (1u << 20))
                yv_error(&c->yv, v, p, "memory must be a whole number of MiB");
}

static void k_vm_mac(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        vm->mac_set = yv_mac(&c->yv, v, p, vm->mac);
}

static void k_vm_ip(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_ip(&c->yv, v, p, &((struct nr_vm *)o)->ip);
}

static void k_vm_cpu(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        if (!yv_want_scalar(&c->yv, v, p, "host-model, host-passthrough or a CPU model name"))
                return;
        if (!strcmp(yv_str(v), "host-model"))
                vm->cpu_mode = NR_CPU_HOST_MODEL;
        else if (!strcmp(yv_str(v), "host-passthrough"))
                vm->cpu_mode = NR_CPU_HOST_PASSTHROUGH;
        else if (yv_cpu_model(&c->yv, v, p, vm->cpu_model, NR_NAME_MAX))
                vm->cpu_mode = NR_CPU_NAMED;
}

static void k_vm_autostart(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_vm *)o)->autostart);
}

/* one of a few words; names[i] is enum value i */
static bool word(struct pctx *c, yaml_node_t *v, const char *p, const char *const *names,
                 size_t n, const char *what, int *out)
{
        if (!yv_want_scalar(&c->yv, v, p, what))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(yv_str(v), names[i]))
                        return *out = (int)i, true;
        yv_error(&c->yv, v, p, "must be %s, not '%s'", what, yv_str(v));
        return false;
}

static void k_vm_firmware(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        static const char *const n[] = {"auto", "bios", "uefi"};
        int x;
        if (word(c, v, p, n, 3, "auto, bios or uefi", &x))
                ((struct nr_vm *)o)->firmware = (enum nr_firmware)x;
}

static void k_vm_secure_boot(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_vm *)o)->secure_boot);
}

static void k_vm_tpm(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_vm *)o)->tpm);
}

static void k_vm_os(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        static const char *const n[] = {"linux", "windows"};
        int x;
        if (word(c, v, p, n, 2, "linux or windows", &x))
                ((struct nr_vm *)o)->os = (enum nr_guest_os)x;
}

static void k_vm_devices(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        static const char *const n[] = {"virtio", "compat"};
        int x;
        if (word(c, v, p, n, 2, "virtio or compat", &x))
                ((struct nr_vm *)o)->devices = (enum nr_guest_devices)x;
}

/* a disk size: whole MiB, at least 1MiB (qemu-img's qcow2 sizes are any multiple of 512) */
static bool disk_size(struct pctx *c, yaml_node_t *v, const char *p, uint64_t *out)
{
        if (!yv_size(&c->yv, v, p, out))
                return false;
        if (*out < (1u << 20) || *out % (1u << 20)) {
                yv_error(&c->yv, v, p, "a disk size is a whole number of MiB, at least 1MiB");
                return false;
        }
        return true;
}

static void k_vm_base(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_vm *)o)->base = abs_path(c, v, p, "a base image path (qcow2 or raw)");
}

static void k_vm_disk_size(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        disk_size(c, v, p, &((struct nr_vm *)o)->disk_size);
}

static void k_vmd_size(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        disk_size(c, v, p, &((struct nr_vm_disk *)o)->size);
}

/* disks: items are a qcow2 path, or {size: SIZE} for a new blank disk */
static void k_vm_disks(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        static const struct keydef keys[] = {{"size", k_vmd_size, true}, {0}};
        struct nr_vm *vm = o;
        char sub[YV_PATH_MAX];
        size_t n = cw_seq_len(c, v, p);
        vm->disks = cw_calloc(n, sizeof(*vm->disks));
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                cw_pos(c, sub, it);
                struct nr_vm_disk *d = &vm->disks[vm->n_disks++];
                if (it->type == YAML_MAPPING_NODE) {
                        cw_map(c, it, sub, keys, d);
                        continue;
                }
                d->path = abs_path(c, it, sub, "a qcow2 path or {size: SIZE}");
                const char *dot = d->path ? strrchr(d->path, '.') : NULL;
                if (d->path && (!dot || strcmp(dot, ".qcow2"))) {
                        yv_error(&c->yv, it, sub, "more disks must be .qcow2 files (import "
                                                  "others as a VM's first disk, or convert them)");
                        free(d->path);
                        d->path = NULL;
                }
        }
}

/* cdrom: one ISO path, or a list of them */
static void k_vm_cdrom(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        char sub[YV_PATH_MAX];
        if (v->type == YAML_SCALAR_NODE) {
                vm->cdroms = cw_calloc(1, sizeof(*vm->cdroms));
                if ((vm->cdroms[0] = abs_path(c, v, p, "an ISO file path")))
                        vm->n_cdroms = 1;
                return;
        }
        size_t n = cw_seq_len(c, v, p);
        vm->cdroms = cw_calloc(n, sizeof(*vm->cdroms));
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                cw_pos(c, sub, it);
                char *s = abs_path(c, it, sub, "an ISO file path");
                if (s)
                        vm->cdroms[vm->n_cdroms++] = s;
        }
}

/* inline user data or network config: any text up to 64 KiB (NoCloud's own limit is larger;
 * this keeps the seed small) */
static char *ci_text(struct pctx *c, yaml_node_t *v, const char *p)
{
        if (!yv_want_scalar(&c->yv, v, p, "text (a YAML block, like user_data: |)"))
                return NULL;
        if (strlen(yv_str(v)) > 65536) {
                yv_error(&c->yv, v, p, "at most 64 KiB inline; use a _file key for more");
                return NULL;
        }
        return strdup(yv_str(v));
}

static void k_ci_user_data(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_cloud_init *)o)->user_data = ci_text(c, v, p);
}

static void k_ci_user_data_file(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_cloud_init *)o)->user_data_file = abs_path(c, v, p, "a user data file path");
}

static void k_ci_network(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_cloud_init *)o)->network_config = ci_text(c, v, p);
}

static void k_ci_network_file(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        ((struct nr_cloud_init *)o)->network_config_file =
                abs_path(c, v, p, "a network config file path");
}

static void k_vm_cloud_init(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        static const struct keydef keys[] = {
                {"user_data", k_ci_user_data, false},
                {"user_data_file", k_ci_user_data_file, false},
                {"network_config", k_ci_network, false},
                {"network_config_file", k_ci_network_file, false},
                {0},
        };
        struct nr_cloud_init *ci = &((struct nr_vm *)o)->cloud_init;
        cw_map(c, v, p, keys, ci);
        ci->set = true;
        if (!ci->user_data == !ci->user_data_file)
                yv_error(&c->yv, v, p, "cloud_init needs user_data or user_data_file (one of "
                                       "them)");
        if (ci->network_config && ci->network_config_file)
                yv_error(&c->yv, v, p, "network_config or network_config_file, not both");
}

static void vm_error(struct pctx *c, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void vm_error(struct pctx *c, const char *path, const char *fmt, ...)
{
        int line, col;
        va_list ap;
        pos_get(c->yv.pos, path, &line, &col);
        va_start(ap, fmt);
        diag_vadd(c->yv.diags, NR_SEV_ERROR, line, col, path, fmt, ap);
        va_end(ap);
}

/* What a VM boots from: a disk whose format is known, or a kernel (with optional initrd and
 * command line, which mean nothing without it). */
static void check_vm_boot(struct pctx *c, const char *path, size_t i, const struct nr_vm *vm)
{
        char sub[YV_PATH_MAX];
        int line, col;
        snprintf(sub, sizeof(sub), "%s[%zu].disk", path, i);
        bool disk_given = pos_get(c->yv.pos, sub, &line, &col) == strlen(sub);
        if (!vm->disk && !disk_given && !vm->kernel && !vm->disk_size && !vm->n_cdroms &&
            !vm->base && vm->name[0]) {
                snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                vm_error(c, sub, "VM %s needs a disk, a base, a disk_size (a new blank disk), "
                                 "a cdrom or a kernel to boot directly", vm->name);
        }
        if (vm->base && (vm->disk || disk_given || vm->disk_size)) {
                snprintf(sub, sizeof(sub), "%s[%zu].base", path, i);
                vm_error(c, sub, "base makes the VM's disk an overlay of it; it cannot go with "
                                 "disk: or disk_size:");
        }
        if (vm->disk_size && (vm->disk || disk_given)) {
                snprintf(sub, sizeof(sub), "%s[%zu].disk_size", path, i);
                vm_error(c, sub, "disk_size makes a new blank disk; it cannot go with disk:");
        }
        if ((vm->initrd || vm->cmdline) && !vm->kernel) {
                snprintf(sub, sizeof(sub), "%s[%zu].%s", path, i, vm->initrd ? "initrd" : "cmdline");
                vm_error(c, sub, "only meaningful with kernel:");
        }
        if (vm->disk && !vm->format_set && vm->disk_format == (enum nr_disk_format)-1) {
                snprintf(sub, sizeof(sub), "%s[%zu].disk", path, i);
                vm_error(c, sub, "cannot tell the disk format from the file name; add format: "
                                 "qcow2, raw, vhd or vhdx");
        }
        if (vm->secure_boot && vm->firmware == NR_FW_BIOS) {
                snprintf(sub, sizeof(sub), "%s[%zu].secure_boot", path, i);
                vm_error(c, sub, "Secure Boot needs UEFI firmware (firmware: uefi or auto), "
                                 "not bios");
        }
}

void cfg_k_vms(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"name", k_vm_name, true},
                {"disk", k_vm_disk, false},
                {"kernel", k_vm_kernel, false},
                {"initrd", k_vm_initrd, false},
                {"cmdline", k_vm_cmdline, false},
                {"format", k_vm_format, false},
                {"vcpus", k_vm_vcpus, false},
                {"memory", k_vm_memory, false},
                {"mac", k_vm_mac, false},
                {"ip", k_vm_ip, false},
                {"cpu", k_vm_cpu, false},
                {"autostart", k_vm_autostart, false},
                {"firmware", k_vm_firmware, false},
                {"secure_boot", k_vm_secure_boot, false},
                {"tpm", k_vm_tpm, false},
                {"os", k_vm_os, false},
                {"devices", k_vm_devices, false},
                {"disk_size", k_vm_disk_size, false},
                {"base", k_vm_base, false},
                {"cloud_init", k_vm_cloud_init, false},
                {"disks", k_vm_disks, false},
                {"cdrom", k_vm_cdrom, false},
                {0},
        };
        struct nr_config *cfg = c->cfg;
        (void)obj;
        size_t n = cw_seq_len(c, v, path);
        cfg->vms = cw_calloc(n, sizeof(*cfg->vms));
        for (size_t i = 0; i < n; i++)
                cfg->vms[i].autostart = true;
        cfg->n_vms = cw_list(c, v, path, cfg->vms, sizeof(*cfg->vms), keys);
        for (size_t i = 0; i < cfg->n_vms; i++)
                check_vm_boot(c, path, i, &cfg->vms[i]);
}
