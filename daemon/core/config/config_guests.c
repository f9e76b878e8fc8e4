/* The guest side of the config: guests (bridge, subnet, DHCP, reservations), port_forwards and
 * vms. Values are checked one by one here; how they fit together is validate.c's job. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/config_walk.h"
#include "core/lib/strbuf.h"

/* ---- guests.dhcp ------------------------------------------------------------------------- */

static void k_dhcp_range(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

static void put_dhcp_range(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_dhcp *d = obj;
        buf_printf(b, "%*s%s: %s-%s\n", indent, "", k->name, ip_s(d->range_start).s,
                   ip_s(d->range_end).s);
}

/* A lease time: a duration of at least 2 minutes, or 0 (infinite). */
static bool check_lease(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        long long t = *(const long long *)val;
        if (t != 0 && t < 120) {
                /* dnsmasq's own floor; shorter leases would silently become 2 minutes */
                yv_error(&c->yv, v, p, "a lease must last at least 2m (or be infinite)");
                return false;
        }
        return true;
}

static void k_dhcp_dyn_lease(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_dhcp *d = o;
        uint32_t t;
        if (!yv_duration(&c->yv, v, p, &t))
                return;
        long long x = t;
        if (!check_lease(c, v, p, &x))
                return;
        d->dynamic_lease_time = t;
        d->dynamic_lease_set = true;
}

static void k_dhcp_dns(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_dhcp *d = o;
        char sub[YV_PATH_MAX];
        d->n_dns = cw_seq_len(c, v, p);
        d->dns = cw_calloc(d->n_dns, sizeof(*d->dns));
        d->dns_set = !yv_is_null(v); /* `dns: []`: no DNS server option at all */
        for (size_t i = 0; i < d->n_dns; i++) {
                const struct yf_node *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                yv_ip(&c->yv, it, sub, &d->dns[i]);
        }
}

static void put_dhcp_dns(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_dhcp *d = obj;
        buf_printf(b, "%*s%s: [", indent, "", k->name);
        for (size_t i = 0; i < d->n_dns; i++)
                buf_printf(b, "%s%s", i ? ", " : "", ip_s(d->dns[i]).s);
        buf_puts(b, "]\n");
}

static void k_res_mac(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_reservation *r = o;
        r->has_mac = yv_mac(&c->yv, v, p, r->mac);
}

static const struct keydef reservation_keys[] = {
        {.name = "name", .kind = CFG_HOSTNAME, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_reservation, name), .doc_type = "host name", .doc_default = "none"},
        {.name = "mac", .fn = k_res_mac, .required = true, .kind = CFG_MAC,
         CFG_FIELD(struct nr_reservation, mac), .doc_type = "MAC address"},
        {.name = "ip", .required = true, .kind = CFG_IPV4, CFG_FIELD(struct nr_reservation, ip),
         .doc_type = "IPv4 address"},
        {0},
};

#define LEASE_TYPE "duration, at least `2m`, or `infinite`/`0`"

static const struct keydef dhcp_keys[] = {
        {.name = "enabled", .kind = CFG_BOOL, CFG_FIELD(struct nr_dhcp, enabled), .def = true,
         .doc_type = "boolean"},
        {.name = "range", .fn = k_dhcp_range, .print = put_dhcp_range,
         .doc_type = "`FIRST-LAST` (two IPv4 addresses)",
         .doc_default = "the larger side of the gateway (see below)"},
        {.name = "lease_time", .kind = CFG_DURATION, CFG_FIELD(struct nr_dhcp, lease_time),
         .check = check_lease, .def = 12 * 3600, .doc_type = LEASE_TYPE},
        {.name = "dynamic_lease_time", .fn = k_dhcp_dyn_lease, .kind = CFG_DURATION,
         CFG_FIELD(struct nr_dhcp, dynamic_lease_time), .doc_type = LEASE_TYPE,
         .doc_default = "`lease_time`"},
        /* dnsmasq keeps every lease in memory; 2^20 is far beyond any bridge */
        {.name = "max_leases", .kind = CFG_UINT, CFG_FIELD(struct nr_dhcp, max_leases), .min = 1,
         .max = 1 << 20, .doc_type = "integer 1–1048576",
         .doc_default = "the number of addresses in `range`"},
        /* Windows DHCP's conflict detection is off too */
        {.name = "ping_check", .kind = CFG_BOOL, CFG_FIELD(struct nr_dhcp, ping_check),
         .doc_type = "boolean"},
        {.name = "dns", .fn = k_dhcp_dns, .print = put_dhcp_dns,
         .doc_type = "list of IPv4 addresses", .doc_default = "`[<guests.gateway>]`"},
        {.name = "domain", .kind = CFG_DOMAIN, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_dhcp, domain), .doc_type = "DNS domain", .doc_default = "none"},
        {.name = "reservations", .kind = CFG_LIST, CFG_FIELD(struct nr_dhcp, reservations),
         .item_size = sizeof(struct nr_reservation),
         .off_n = offsetof(struct nr_dhcp, n_reservations), .sub = reservation_keys,
         .flags = CFG_F_FLOW, .doc_type = "list of mappings", .doc_default = "`[]`"},
        {0},
};

/* ---- guests ------------------------------------------------------------------------------ */

static bool check_guest_subnet(struct pctx *c, const struct yf_node *v, const char *p,
                               const void *val)
{
        const struct nr_prefix *s = val;
        if (s->len > 30 || s->len < 8) {
                /* left at {0}, "no subnet": the guest checks are skipped */
                yv_error(&c->yv, v, p, "a guest subnet must be /8 to /30, not /%u", s->len);
                return false;
        }
        return true;
}

static void k_g_ports(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_guests *g = o;
        char sub[YV_PATH_MAX];
        g->n_ports = cw_seq_len(c, v, p);
        g->ports = cw_calloc(g->n_ports, sizeof(*g->ports));
        for (size_t i = 0; i < g->n_ports; i++) {
                const struct yf_node *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                yv_ifname(&c->yv, it, sub, g->ports[i]);
        }
}

static void put_g_ports(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_guests *g = obj;
        buf_printf(b, "%*s%s: [", indent, "", k->name);
        for (size_t i = 0; i < g->n_ports; i++)
                buf_printf(b, "%s%s", i ? ", " : "", g->ports[i]);
        buf_puts(b, "]\n");
}

const struct keydef cfg_guests_keys[] = {
        {.name = "bridge", .kind = CFG_IFNAME, CFG_FIELD(struct nr_guests, bridge),
         .def_str = "nr0", .doc_type = "interface name"},
        {.name = "subnet", .required = true, .kind = CFG_PREFIX,
         CFG_FIELD(struct nr_guests, subnet), .check = check_guest_subnet,
         .doc_type = "prefix, /8 to /30"},
        {.name = "gateway", .kind = CFG_IPV4, CFG_FIELD(struct nr_guests, gateway),
         .doc_type = "IPv4 address", .doc_default = "first host of `subnet`"},
        {.name = "mtu", .kind = CFG_UINT, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_guests, mtu), .min = 576, .max = 65535,
         .doc_type = "integer 576–65535", .doc_default = "not set"},
        {.name = "ports", .fn = k_g_ports, .print = put_g_ports,
         .doc_type = "list of interface names", .doc_default = "`[]`"},
        {.name = "isolation", .kind = CFG_BOOL, CFG_FIELD(struct nr_guests, isolation),
         .doc_type = "boolean", .doc_default = "`false` (see [7.7](#77-guestsisolation))"},
        {.name = "dhcp", .kind = CFG_MAP, .off = offsetof(struct nr_guests, dhcp),
         .sub = dhcp_keys, .doc_type = "mapping", .doc_default = "see [7.6](#76-guestsdhcp)"},
        {0},
};

/* ---- port_forwards ----------------------------------------------------------------------- */

static void k_pf_to(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

/* inside the forward's flow mapping (indent < 0) */
static void put_pf_to(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_port_forward *f = obj;
        (void)indent;
        buf_printf(b, "%s: %s", k->name, f->to_name[0] ? f->to_name : ip_s(f->to_ip).s);
}

static const char *const proto_names[] = {"tcp", "udp", NULL};

const struct keydef cfg_forward_keys[] = {
        {.name = "proto", .kind = CFG_ENUM, CFG_FIELD(struct nr_port_forward, proto),
         .names = proto_names, .def = NR_PROTO_TCP, .doc_type = "`tcp` or `udp` (lower case)"},
        {.name = "port", .required = true, .kind = CFG_UINT,
         CFG_FIELD(struct nr_port_forward, port), .min = 1, .max = 65535,
         .doc_type = "integer 1–65535"},
        {.name = "to", .fn = k_pf_to, .required = true, .print = put_pf_to,
         .doc_type = "IPv4 address, or the host name of a reservation or VM"},
        {.name = "to_port", .kind = CFG_UINT, CFG_FIELD(struct nr_port_forward, to_port),
         .min = 1, .max = 65535, .doc_type = "integer 1–65535", .doc_default = "same as `port`"},
        {.name = "from", .kind = CFG_PREFIX_LIST, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_port_forward, from), .off_n = offsetof(struct nr_port_forward, n_from),
         .doc_type = "list of prefixes", .doc_default = "`[]` (every source)"},
        {0},
};

/* ---- vms --------------------------------------------------------------------------------- */

static const char *const format_names[] = {"qcow2", "raw", "vhd", "vhdx", NULL};

static bool disk_format_parse(const char *s, enum nr_disk_format *f)
{
        for (size_t i = 0; format_names[i]; i++)
                if (!strcmp(s, format_names[i]))
                        return *f = (enum nr_disk_format)i, true;
        return false;
}

static void k_vm_disk(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        vm->disk_given = true; /* also when wrong: the boot checks need not say it is missing */
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

static char *abs_path(struct pctx *c, const struct yf_node *v, const char *p, const char *what)
{
        if (!yv_want_scalar(&c->yv, v, p, what))
                return NULL;
        if (yv_str(v)[0] != '/') {
                yv_error(&c->yv, v, p, "'%s' is not an absolute path", yv_str(v));
                return NULL;
        }
        return strdup(yv_str(v));
}

static bool check_cmdline(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        const char *s = val;
        if (strlen(s) > 2048 || strpbrk(s, "\n\r")) {
                yv_error(&c->yv, v, p, "a kernel command line is one line of at most 2048 bytes");
                return false;
        }
        return true;
}

static void k_vm_format(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

/* a disk's format: given or from its file name, so printed with the disk only */
static void put_vm_format(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_vm *vm = obj;
        if (vm->disk)
                buf_printf(b, "%*s%s: %s\n", indent, "", k->name,
                           cfg_disk_format_name(vm->disk_format));
}

static void k_vm_vcpus(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

static void k_vm_memory(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        uint64_t m;
        if (!yv_size(&c->yv, v, p, &m))
                return;
        if (m < (16u << 20)) {
                /* the default stays: later checks keep quiet about a value already wrong */
                yv_error(&c->yv, v, p, "a VM needs at least 16MiB of memory");
                return;
        }
        if (m % (1u << 20))
                yv_error(&c->yv, v, p, "memory must be a whole number of MiB");
        vm->memory = m;
}

static void k_vm_mac(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        vm->mac_set = yv_mac(&c->yv, v, p, vm->mac);
}

static void k_vm_cpu(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

static void put_vm_cpu(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_vm *vm = obj;
        buf_printf(b, "%*s%s: %s\n", indent, "", k->name,
                   vm->cpu_mode == NR_CPU_NAMED ? vm->cpu_model : cfg_cpu_mode_name(vm->cpu_mode));
}

/* One of a few words; names[i] is enum value i. The message names no key (as it always has),
 * unlike CFG_ENUM's. */
static bool word(struct pctx *c, const struct yf_node *v, const char *p, const char *const *names,
                 const char *what, int *out)
{
        if (!yv_want_scalar(&c->yv, v, p, what))
                return false;
        for (size_t i = 0; names[i]; i++)
                if (!strcmp(yv_str(v), names[i]))
                        return *out = (int)i, true;
        yv_error(&c->yv, v, p, "must be %s, not '%s'", what, yv_str(v));
        return false;
}

static const char *const firmware_names[] = {"auto", "bios", "uefi", NULL};
static const char *const os_names[] = {"linux", "windows", NULL};
static const char *const devices_names[] = {"virtio", "compat", NULL};

static void k_vm_firmware(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        int x;
        if (word(c, v, p, firmware_names, "auto, bios or uefi", &x))
                ((struct nr_vm *)o)->firmware = (enum nr_firmware)x;
}

static void k_vm_os(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        int x;
        if (word(c, v, p, os_names, "linux or windows", &x))
                ((struct nr_vm *)o)->os = (enum nr_guest_os)x;
}

static void k_vm_devices(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        int x;
        if (word(c, v, p, devices_names, "virtio or compat", &x))
                ((struct nr_vm *)o)->devices = (enum nr_guest_devices)x;
}

/* a disk size: whole MiB, at least 1MiB (qemu-img's qcow2 sizes are any multiple of 512) */
static bool check_disk_size(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        uint64_t z = *(const uint64_t *)val;
        if (z < (1u << 20) || z % (1u << 20)) {
                yv_error(&c->yv, v, p, "a disk size is a whole number of MiB, at least 1MiB");
                return false;
        }
        return true;
}

static const struct keydef vm_disk_keys[] = {
        {.name = "size", .required = true, .kind = CFG_SIZE, CFG_FIELD(struct nr_vm_disk, size),
         .check = check_disk_size, .doc_type = "size, whole MiB"},
        {0},
};

/* disks: items are a qcow2 path, or {size: SIZE} for a new blank disk */
static void k_vm_disks(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_vm *vm = o;
        char sub[YV_PATH_MAX];
        size_t n = cw_seq_len(c, v, p);
        vm->disks = cw_calloc(n, sizeof(*vm->disks));
        for (size_t i = 0; i < n; i++) {
                const struct yf_node *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                struct nr_vm_disk *d = &vm->disks[vm->n_disks++];
                if (it->type == YAML_MAPPING_NODE) {
                        cw_map(c, it, sub, vm_disk_keys, d);
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

static void put_vm_disks(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_vm *vm = obj;
        if (vm->n_disks)
                buf_printf(b, "%*s%s:\n", indent, "", k->name);
        for (size_t i = 0; i < vm->n_disks; i++) {
                buf_printf(b, "%*s- ", indent + 2, "");
                if (vm->disks[i].path) {
                        cfg_put_quoted(b, vm->disks[i].path);
                } else {
                        buf_puts(b, "size: ");
                        cfg_put_size(b, vm->disks[i].size);
                }
                buf_puts(b, "\n");
        }
}

/* cdrom: one ISO path, or a list of them */
static void k_vm_cdrom(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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
                const struct yf_node *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                char *s = abs_path(c, it, sub, "an ISO file path");
                if (s)
                        vm->cdroms[vm->n_cdroms++] = s;
        }
}

static void put_vm_cdrom(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_vm *vm = obj;
        if (vm->n_cdroms)
                buf_printf(b, "%*s%s:\n", indent, "", k->name);
        for (size_t i = 0; i < vm->n_cdroms; i++) {
                buf_printf(b, "%*s- ", indent + 2, "");
                cfg_put_quoted(b, vm->cdroms[i]);
                buf_puts(b, "\n");
        }
}

/* inline user data or network config: any text up to 64 KiB (NoCloud's own limit is larger;
 * this keeps the seed small) */
static bool check_ci_text(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        if (strlen(val) > 65536) {
                yv_error(&c->yv, v, p, "at most 64 KiB inline; use a _file key for more");
                return false;
        }
        return true;
}

#define CI_TEXT(field)                                                                        \
        .name = #field, .kind = CFG_TEXT, .flags = CFG_F_OMIT_ZERO,                           \
        CFG_FIELD(struct nr_cloud_init, field), .what = "text (a YAML block, like user_data: |)", \
        .check = check_ci_text, .doc_type = "text, at most 64 KiB", .doc_default = "none"
#define CI_FILE(field, what_)                                                                 \
        .name = #field, .kind = CFG_PATH, .flags = CFG_F_OMIT_ZERO,                           \
        CFG_FIELD(struct nr_cloud_init, field), .what = what_, .doc_type = "absolute path",   \
        .doc_default = "none"

static const struct keydef cloud_init_keys[] = {
        {CI_TEXT(user_data)},
        {CI_FILE(user_data_file, "a user data file path")},
        {CI_TEXT(network_config)},
        {CI_FILE(network_config_file, "a network config file path")},
        {0},
};

static void k_vm_cloud_init(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_cloud_init *ci = &((struct nr_vm *)o)->cloud_init;
        cw_map(c, v, p, cloud_init_keys, ci);
        ci->set = true;
        if (!ci->user_data == !ci->user_data_file)
                yv_error(&c->yv, v, p, "cloud_init needs user_data or user_data_file (one of "
                                       "them)");
        if (ci->network_config && ci->network_config_file)
                yv_error(&c->yv, v, p, "network_config or network_config_file, not both");
}

#define VM_PATH(field, what_, type, dflt)                                                     \
        .name = #field, .kind = CFG_PATH, .flags = CFG_F_OMIT_ZERO,                           \
        CFG_FIELD(struct nr_vm, field), .what = what_, .doc_type = type, .doc_default = dflt
#define VM_BOOL(field, def_, type)                                                            \
        .name = #field, .kind = CFG_BOOL, CFG_FIELD(struct nr_vm, field), .def = def_,        \
        .doc_type = type

/* In the order --check -v has always printed them. */
const struct keydef cfg_vm_keys[] = {
        {.name = "name", .required = true, .kind = CFG_HOSTNAME, CFG_FIELD(struct nr_vm, name),
         .doc_type = "host name"},
        {.name = "disk", .fn = k_vm_disk, .kind = CFG_PATH, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_vm, disk), .doc_type = "absolute path",
         .doc_default = "(none)"},
        {.name = "format", .fn = k_vm_format, .kind = CFG_ENUM,
         CFG_FIELD(struct nr_vm, disk_format), .names = format_names, .print = put_vm_format,
         .doc_type = "`qcow2`, `raw`, `vhd`, `vhdx`", .doc_default = "from the file name"},
        {VM_PATH(kernel, "a kernel image path", "absolute path", "none: boot from the disk")},
        {VM_PATH(initrd, "an initramfs path", "absolute path, only with `kernel`", "none")},
        {.name = "cmdline", .kind = CFG_TEXT, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_vm, cmdline), .what = "a kernel command line",
         .check = check_cmdline, .doc_type = "one line, at most 2048 bytes, only with `kernel`",
         .doc_default = "none"},
        {.name = "vcpus", .fn = k_vm_vcpus, .kind = CFG_UINT, CFG_FIELD(struct nr_vm, vcpus),
         .def = 1, .doc_type = "integer 1–512"},
        {.name = "memory", .fn = k_vm_memory, .kind = CFG_SIZE, CFG_FIELD(struct nr_vm, memory),
         .def = 1ll << 30, .doc_type = "size, at least 16MiB, whole MiB"},
        {.name = "mac", .fn = k_vm_mac, .kind = CFG_MAC, CFG_FIELD(struct nr_vm, mac),
         .doc_type = "MAC address", .doc_default = "the matching reservation's MAC, else "
                                                   "`52:54:00:xx:xx:xx` from the name"},
        {.name = "ip", .kind = CFG_IPV4, .flags = CFG_F_OMIT_ZERO, CFG_FIELD(struct nr_vm, ip),
         .doc_type = "IPv4 address", .doc_default = "the matching reservation's IP, else none"},
        {.name = "cpu", .fn = k_vm_cpu, .print = put_vm_cpu,
         .doc_type = "`host-model`, `host-passthrough`, or a CPU model name",
         .doc_default = "`host-model`"},
        {VM_BOOL(autostart, true, "boolean")},
        {.name = "firmware", .fn = k_vm_firmware, .kind = CFG_ENUM,
         CFG_FIELD(struct nr_vm, firmware), .names = firmware_names, .def = NR_FW_AUTO,
         .doc_type = "`auto`, `bios`, `uefi`"},
        {VM_BOOL(secure_boot, false, "boolean, needs `uefi` or `auto`")},
        {VM_BOOL(tpm, false, "boolean")},
        {.name = "os", .fn = k_vm_os, .kind = CFG_ENUM, CFG_FIELD(struct nr_vm, os),
         .names = os_names, .def = NR_OS_LINUX, .doc_type = "`linux`, `windows`"},
        {.name = "devices", .fn = k_vm_devices, .kind = CFG_ENUM,
         CFG_FIELD(struct nr_vm, devices), .names = devices_names, .def = NR_DEVICES_VIRTIO,
         .doc_type = "`virtio`, `compat`"},
        {VM_PATH(base, "a base image path (qcow2 or raw)",
                 "absolute path of a qcow2 or raw image, only without `disk` and `disk_size`",
                 "none")},
        {.name = "disk_size", .kind = CFG_SIZE, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_vm, disk_size), .check = check_disk_size,
         .doc_type = "size, whole MiB, only without `disk`", .doc_default = "none"},
        {.name = "disks", .fn = k_vm_disks, .print = put_vm_disks,
         .doc_type = "list of `.qcow2` paths and `{size: SIZE}`", .doc_default = "`[]`"},
        {.name = "cloud_init", .fn = k_vm_cloud_init, .kind = CFG_MAP, .flags = CFG_F_PRESENT,
         .off = offsetof(struct nr_vm, cloud_init), .sub = cloud_init_keys,
         .doc_type = "map: `user_data` or `user_data_file`, optional `network_config` or "
                     "`network_config_file`",
         .doc_default = "none"},
        {.name = "cdrom", .fn = k_vm_cdrom, .print = put_vm_cdrom,
         .doc_type = "an ISO path, or a list of them", .doc_default = "none"},
        {0},
};

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
        bool disk_given = vm->disk_given;
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

void cfg_k_vms(struct pctx *c, const struct yf_node *v, const char *path, void *obj)
{
        struct nr_config *cfg = c->cfg;
        (void)obj;
        size_t n = cw_seq_len(c, v, path);
        cfg->vms = cw_calloc(n, sizeof(*cfg->vms));
        for (size_t i = 0; i < n; i++)
                cfg_schema_defaults(cfg_vm_keys, &cfg->vms[i]);
        cfg->n_vms = cw_list(c, v, path, cfg->vms, sizeof(*cfg->vms), cfg_vm_keys);
        for (size_t i = 0; i < cfg->n_vms; i++)
                check_vm_boot(c, path, i, &cfg->vms[i]);
}
