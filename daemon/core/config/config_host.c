/* The host-side sections of the config: libvirt (how nested guests run), azure (names of the
 * Azure resources the generated artefacts refer to, the VNet's address space and Route Server,
 * and Scheduled Events handling) and metrics
 * (where the Prometheus textfile goes). */
#include <stdio.h>
#include <string.h>

#include "core/config/config_walk.h"

/* ---- libvirt ----------------------------------------------------------------------------- */

static void k_lv_uri(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_libvirt *l = o;
        if (!yv_want_scalar(&c->yv, v, p, "a libvirt URI like qemu:///system"))
                return;
        const char *s = yv_str(v);
        if (!strstr(s, ":/") || strlen(s) >= sizeof(l->uri) || strpbrk(s, " \t\n")) {
                yv_error(&c->yv, v, p, "'%s' is not a libvirt URI (like qemu:///system)", s);
                return;
        }
        strcpy(l->uri, s);
}

static void k_lv_accel(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_libvirt *l = o;
        static const char *const names[] = {"auto", "kvm", "tcg"};
        if (!yv_want_scalar(&c->yv, v, p, "auto, kvm or tcg"))
                return;
        for (size_t i = 0; i < 3; i++)
                if (!strcmp(yv_str(v), names[i])) {
                        l->accel = (enum nr_accel)i;
                        return;
                }
        yv_error(&c->yv, v, p, "accel must be auto, kvm or tcg, not '%s'", yv_str(v));
}

/* Shutdown timeouts: long enough for a guest OS to stop, short enough for Azure maintenance. */
static void shutdown_timeout(struct pctx *c, yaml_node_t *v, const char *p, uint32_t *out)
{
        uint32_t t;
        if (!yv_duration(&c->yv, v, p, &t))
                return;
        if (t == 0 || t > 3600)
                yv_error(&c->yv, v, p, "a shutdown timeout must be 1s to 1h");
        else
                *out = t;
}

static void k_lv_timeout(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        shutdown_timeout(c, v, p, &((struct nr_libvirt *)o)->shutdown_timeout);
}

void cfg_k_libvirt(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"uri", k_lv_uri, false},
                {"accel", k_lv_accel, false},
                {"shutdown_timeout", k_lv_timeout, false},
                {0},
        };
        (void)obj;
        cw_map(c, v, path, keys, &c->cfg->libvirt);
}

/* ---- azure ------------------------------------------------------------------------------- */

/* Azure resource names: letters, digits, '-', '_', '.', '(' and ')', at most 90. */
static bool azname(struct pctx *c, yaml_node_t *v, const char *p, char *out)
{
        if (!yv_want_scalar(&c->yv, v, p, "an Azure resource name"))
                return false;
        const char *s = yv_str(v);
        bool ok = *s && strlen(s) < NR_AZNAME_MAX;
        for (const char *q = s; ok && *q; q++)
                ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                     (*q >= '0' && *q <= '9') || strchr("-_.()", *q);
        if (!ok) {
                yv_error(&c->yv, v, p, "'%s' is not an Azure resource name (letters, digits, "
                         "'-', '_', '.', '(', ')', at most 90)", s);
                return false;
        }
        strcpy(out, s);
        return true;
}

#define AZ_FIELD(fn, field)                                                                   \
        static void fn(struct pctx *c, yaml_node_t *v, const char *p, void *o)                \
        {                                                                                     \
                azname(c, v, p, ((struct nr_azure *)o)->field);                               \
        }
AZ_FIELD(k_az_rg, resource_group)
AZ_FIELD(k_az_loc, location)
AZ_FIELD(k_az_vnet, vnet)
AZ_FIELD(k_az_rt, route_table)
AZ_FIELD(k_az_nic, lan_nic)
AZ_FIELD(k_az_vm, vm_name)
AZ_FIELD(k_az_rs, route_server)

static void k_az_space(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_azure *a = o;
        a->n_address_space = cw_prefix_list(c, v, p, &a->address_space);
}

static void k_az_rs_subnet(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_prefix s;
        if (!yv_subnet(&c->yv, v, p, &s))
                return;
        /* Azure refuses a smaller RouteServerSubnet; /27 was the floor before 2024 */
        if (s.len > 27 || s.len < 8) {
                yv_error(&c->yv, v, p, "RouteServerSubnet must be /8 to /27 (Azure asks for "
                         "/26 or larger), not /%u", s.len);
                return;
        }
        ((struct nr_azure *)o)->route_server_subnet = s;
}

static void k_az_b2b(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_azure *)o)->branch_to_branch);
}

static void k_az_subnets(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_azure *a = o;
        char sub[YV_PATH_MAX];
        a->n_subnets = cw_seq_len(c, v, p);
        a->subnets = cw_calloc(a->n_subnets, sizeof(*a->subnets));
        for (size_t i = 0; i < a->n_subnets; i++) {
                yaml_node_t *it = cw_seq_item(c, v, i);
                snprintf(sub, sizeof(sub), "%s[%zu]", p, i);
                cw_pos(c, sub, it);
                azname(c, it, sub, a->subnets[i]);
        }
}

static void k_az_gws(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_azure *)o)->gateway_subnet);
}

static void k_az_events(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_azure *)o)->scheduled_events);
}

static void k_az_timeout(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        shutdown_timeout(c, v, p, &((struct nr_azure *)o)->event_shutdown_timeout);
}

void cfg_k_azure(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"resource_group", k_az_rg, false},
                {"location", k_az_loc, false},
                {"vnet", k_az_vnet, false},
                {"route_table", k_az_rt, false},
                {"subnets", k_az_subnets, false},
                {"gateway_subnet", k_az_gws, false},
                {"lan_nic", k_az_nic, false},
                {"vm_name", k_az_vm, false},
                {"scheduled_events", k_az_events, false},
                {"event_shutdown_timeout", k_az_timeout, false},
                {"address_space", k_az_space, false},
                {"route_server", k_az_rs, false},
                {"route_server_subnet", k_az_rs_subnet, false},
                {"branch_to_branch", k_az_b2b, false},
                {0},
        };
        (void)obj;
        c->cfg->azure.present = true;
        cw_map(c, v, path, keys, &c->cfg->azure);
}

/* ---- metrics ----------------------------------------------------------------------------- */

/* Off by default: a daemon writes into another package's directory only when asked to (and a
 * test or demo daemon on a machine with node exporter would otherwise publish its numbers). */
static void k_m_textfile(struct pctx *c, yaml_node_t *v, const char *p, void *o)
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

static void k_m_interval(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        uint32_t t;
        if (!yv_duration(&c->yv, v, p, &t))
                return;
        if (t == 0 || t > 3600)
                yv_error(&c->yv, v, p, "the metrics interval must be 1s to 1h");
        else
                ((struct nr_metrics_cfg *)o)->interval = t;
}

static void k_m_scrape_from(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_metrics_cfg *m = o;
        m->n_scrape_from = cw_prefix_list(c, v, p, &m->scrape_from);
}

static void k_m_scrape_port(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (!yv_int(&c->yv, v, p, 1, 65535, &x))
                return;
        if (x == 22 || x == 53 || x == 67) {
                yv_error(&c->yv, v, p, "port %lld is %s's; node exporter listens on 9100", x,
                         x == 22 ? "SSH" : x == 53 ? "DNS" : "DHCP");
                return;
        }
        ((struct nr_metrics_cfg *)o)->scrape_port = (uint16_t)x;
}

void cfg_k_metrics(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"textfile", k_m_textfile, false},
                {"interval", k_m_interval, false},
                {"scrape_from", k_m_scrape_from, false},
                {"scrape_port", k_m_scrape_port, false},
                {0},
        };
        (void)obj;
        cw_map(c, v, path, keys, &c->cfg->metrics);
}
