/* The host-side sections of the config: libvirt (how nested guests run), azure (names of the
 * Azure resources the generated artefacts refer to, the VNet's address space and Route Server,
 * and Scheduled Events handling) and metrics
 * (where the Prometheus textfile goes). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/config/config_walk.h"
#include "core/lib/strbuf.h"

/* ---- libvirt ----------------------------------------------------------------------------- */

static bool check_lv_uri(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        const char *s = val;
        if (!strstr(s, ":/") || strlen(s) >= sizeof(((struct nr_libvirt *)0)->uri) ||
            strpbrk(s, " \t\n")) {
                yv_error(&c->yv, v, p, "'%s' is not a libvirt URI (like qemu:///system)", s);
                return false;
        }
        return true;
}

static const char *const accel_names[] = {"auto", "kvm", "tcg", NULL};

/* Shutdown timeouts: long enough for a guest OS to stop, short enough for Azure maintenance. */
#define SHUTDOWN_TIMEOUT(st, field)                                                           \
        .kind = CFG_DURATION, CFG_FIELD(st, field), .min = 1, .max = 3600,                    \
        .range_msg = "a shutdown timeout must be 1s to 1h", .def = 120,                       \
        .doc_type = "duration, 1s to 1h"

const struct keydef cfg_libvirt_keys[] = {
        {.name = "uri", .kind = CFG_STRING, .flags = CFG_F_QUOTE, CFG_FIELD(struct nr_libvirt, uri),
         .what = "a libvirt URI like qemu:///system", .check = check_lv_uri,
         .def_str = "qemu:///system",
         .doc_type = "libvirt URI (contains `:/`, no spaces, < 256 bytes)"},
        {.name = "accel", .kind = CFG_ENUM, CFG_FIELD(struct nr_libvirt, accel),
         .names = accel_names, .def = NR_ACCEL_AUTO, .doc_type = "`auto`, `kvm` or `tcg`"},
        {.name = "shutdown_timeout", SHUTDOWN_TIMEOUT(struct nr_libvirt, shutdown_timeout)},
        {0},
};

/* ---- azure ------------------------------------------------------------------------------- */

/* Azure resource names: letters, digits, '-', '_', '.', '(' and ')', at most 90. */
static bool check_azname(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        const char *s = val;
        bool ok = *s && strlen(s) < NR_AZNAME_MAX;
        for (const char *q = s; ok && *q; q++)
                ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                     (*q >= '0' && *q <= '9') || strchr("-_.()", *q);
        if (!ok)
                yv_error(&c->yv, v, p, "'%s' is not an Azure resource name (letters, digits, "
                         "'-', '_', '.', '(', ')', at most 90)", s);
        return ok;
}

static void k_az_subnets(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_azure *a = o;
        char sub[YV_PATH_MAX];
        a->n_subnets = cw_seq_len(c, v, p);
        a->subnets = cw_calloc(a->n_subnets, sizeof(*a->subnets));
        for (size_t i = 0; i < a->n_subnets; i++) {
                const struct yf_node *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                if (yv_want_scalar(&c->yv, it, sub, "an Azure resource name") &&
                    check_azname(c, it, sub, yv_str(it)))
                        strcpy(a->subnets[i], yv_str(it));
        }
}

static void put_az_subnets(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_azure *a = obj;
        buf_printf(b, "%*s%s: [", indent, "", k->name);
        for (size_t i = 0; i < a->n_subnets; i++) {
                buf_puts(b, i ? ", " : "");
                cfg_put_quoted(b, a->subnets[i]);
        }
        buf_puts(b, "]\n");
}

static bool check_rs_subnet(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        const struct nr_prefix *s = val;
        /* Azure refuses a smaller RouteServerSubnet; /27 was the floor before 2024 */
        if (s->len > 27 || s->len < 8) {
                yv_error(&c->yv, v, p, "RouteServerSubnet must be /8 to /27 (Azure asks for "
                         "/26 or larger), not /%u", s->len);
                return false;
        }
        return true;
}

/* Names are printed only when given; without them the artefacts hold placeholders. */
#define AZNAME(field, dflt)                                                                   \
        .name = #field, .kind = CFG_STRING, .flags = CFG_F_OMIT_ZERO | CFG_F_QUOTE,            \
        CFG_FIELD(struct nr_azure, field), .what = "an Azure resource name",                  \
        .check = check_azname, .doc_type = "Azure resource name", .doc_default = dflt

const struct keydef cfg_azure_keys[] = {
        {AZNAME(resource_group, "a placeholder in the artefacts")},
        {AZNAME(location, "the resource group's, in the artefacts")},
        {AZNAME(vnet, "a placeholder in the artefacts")},
        {AZNAME(route_table, "`Routes-for-nested-VMs` in the artefacts")},
        {.name = "subnets", .fn = k_az_subnets, .print = put_az_subnets,
         .doc_type = "list of Azure resource names", .doc_default = "`[]`"},
        {.name = "gateway_subnet", .kind = CFG_BOOL, CFG_FIELD(struct nr_azure, gateway_subnet),
         .def = true, .doc_type = "boolean"},
        {AZNAME(lan_nic, "a placeholder in the artefacts")},
        {AZNAME(vm_name, "the file's name without `.yaml`, in the artefacts")},
        {.name = "scheduled_events", .kind = CFG_BOOL,
         CFG_FIELD(struct nr_azure, scheduled_events), .def = true, .doc_type = "boolean"},
        {.name = "event_shutdown_timeout",
         SHUTDOWN_TIMEOUT(struct nr_azure, event_shutdown_timeout)},
        {.name = "address_space", .kind = CFG_PREFIX_LIST, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_azure, address_space),
         .off_n = offsetof(struct nr_azure, n_address_space), .doc_type = "list of IPv4 prefixes",
         .doc_default = "`[]` (not stated: nothing is checked against it)"},
        {AZNAME(route_server, "`nestrouter-rs` in the artefacts")},
        {.name = "route_server_subnet", .kind = CFG_PREFIX, .flags = CFG_F_OMIT_ZERO,
         CFG_FIELD(struct nr_azure, route_server_subnet), .check = check_rs_subnet,
         .doc_type = "IPv4 prefix, /8 to /27",
         .doc_default = "not given: a placeholder in the artefacts"},
        {.name = "branch_to_branch", .kind = CFG_BOOL,
         CFG_FIELD(struct nr_azure, branch_to_branch), .doc_type = "boolean"},
        {0},
};

/* ---- metrics ----------------------------------------------------------------------------- */

/* Off by default: a daemon writes into another package's directory only when asked to (and a
 * test or demo daemon on a machine with node exporter would otherwise publish its numbers). */
static void k_m_textfile(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        static const char *const off[] = {"false", "False", "FALSE", "no", "No", "off", "Off"};
        static const char *const on[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
        struct nr_metrics_cfg *m = o;
        if (!yv_want_scalar(&c->yv, v, p, "a path ending in .prom, true or false"))
                return;
        const char *s = yv_str(v);
        size_t n = strlen(s);
        for (size_t i = 0; i < sizeof(off) / sizeof(*off); i++) {
                if (!strcmp(s, off[i])) {
                        m->textfile[0] = '\0';
                        return;
                }
                if (!strcmp(s, on[i])) {
                        snprintf(m->textfile, sizeof(m->textfile), "%s",
                                 NR_METRICS_TEXTFILE_DEBIAN);
                        return;
                }
        }
        /* node exporter's textfile collector reads only *.prom files */
        if (s[0] != '/' || n < 7 || strcmp(s + n - 5, ".prom") || n >= sizeof(m->textfile)) {
                yv_error(&c->yv, v, p, "'%s': an absolute path ending in .prom (node exporter's "
                         "textfile collector reads only those), at most %zu characters; or true (%s) or false",
                         s, sizeof(m->textfile) - 1, NR_METRICS_TEXTFILE_DEBIAN);
                return;
        }
        for (const char *q = s; *q; q++)
                if ((unsigned char)*q < 0x20 || *q == '"' || *q == '\\') {
                        yv_error(&c->yv, v, p, "'%s': no control characters, quotes or "
                                 "backslashes in the path", s);
                        return;
                }
        memcpy(m->textfile, s, n + 1);
}

static void put_m_textfile(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_metrics_cfg *m = obj;
        buf_printf(b, "%*s%s: ", indent, "", k->name);
        if (m->textfile[0])
                cfg_put_quoted(b, m->textfile);
        else
                buf_puts(b, "false");
        buf_puts(b, "\n");
}

static bool check_scrape_port(struct pctx *c, const struct yf_node *v, const char *p,
                              const void *val)
{
        long long x = *(const long long *)val;
        if (x == 22 || x == 53 || x == 67) {
                yv_error(&c->yv, v, p, "port %lld is %s's; node exporter listens on 9100", x,
                         x == 22 ? "SSH" : x == 53 ? "DNS" : "DHCP");
                return false;
        }
        return true;
}

const struct keydef cfg_metrics_keys[] = {
        {.name = "textfile", .fn = k_m_textfile, .print = put_m_textfile,
         .doc_type = "`true` (Debian's directory, below), an absolute path ending in `.prom` "
                     "(< 512 bytes, no control characters, `\"` or `\\`), or `false`",
         .doc_default = "`false`"},
        {.name = "interval", .kind = CFG_DURATION, CFG_FIELD(struct nr_metrics_cfg, interval),
         .min = 1, .max = 3600, .range_msg = "the metrics interval must be 1s to 1h", .def = 15,
         .doc_type = "duration, 1s to 1h"},
        {.name = "scrape_from", .kind = CFG_PREFIX_LIST,
         CFG_FIELD(struct nr_metrics_cfg, scrape_from),
         .off_n = offsetof(struct nr_metrics_cfg, n_scrape_from),
         .doc_type = "list of IPv4 prefixes (`A.B.C.D/N`)"},
        {.name = "scrape_port", .kind = CFG_UINT, CFG_FIELD(struct nr_metrics_cfg, scrape_port),
         .min = 1, .max = 65535, .check = check_scrape_port, .def = 9100,
         .doc_type = "integer 1–65535, not 22, 53 or 67"},
        {0},
};
