/* YAML text -> struct nr_config. Each section has a table of known keys; unknown keys get a
 * "did you mean" suggestion, wrong types and bad values an error at the value's line:column.
 * Parsing goes on after an error so that one run reports every mistake in the file. */
#include "core/config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config/config_walk.h"
#include "core/config/yamlval.h"

/* ---- version, firewall, router ---------------------------------------------------------- */

static void k_version(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        long long x;
        (void)obj;
        if (!yv_int(&c->yv, v, path, 0, 1000000, &x))
                return;
        if (x != 1) {
                yv_error(&c->yv, v, path, "unsupported version %lld (this nestrouterd reads version 1)",
                         x);
                return;
        }
        c->cfg->version = 1;
}

static void k_fw_ssh(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_firewall *)o)->ssh);
}

static void k_fw_ssh_from(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_firewall *f = o;
        f->n_ssh_from = cw_prefix_list(c, v, p, &f->ssh_from);
}

static void k_fw_meta(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        yv_bool(&c->yv, v, p, &((struct nr_firewall *)o)->block_metadata);
}

static void k_firewall(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"ssh", k_fw_ssh, false},
                {"ssh_from", k_fw_ssh_from, false},
                {"block_metadata", k_fw_meta, false},
                {0},
        };
        (void)obj;
        cw_map(c, v, path, keys, &c->cfg->firewall);
}

static void k_rt_proto(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (!yv_int(&c->yv, v, p, 0, 255, &x))
                return;
        static const struct {
                int proto;
                const char *who;
        } taken[] = {
                {8, "gated"}, {9, "router advertisements"}, {10, "mrt"}, {11, "zebra (FRR)"},
                {12, "BIRD"}, {13, "dnrouted"}, {14, "XORP"}, {15, "Netsukuku"},
                {16, "DHCP clients (systemd-networkd)"}, {17, "mrouted"}, {18, "keepalived"},
                {42, "babel"}, {99, "OpenR"}, {186, "BGP (FRR)"}, {187, "IS-IS (FRR)"},
                {188, "OSPF (FRR)"}, {189, "RIP (FRR)"}, {192, "EIGRP (FRR)"},
        };
        if (x <= 4) {
                yv_error(&c->yv, v, p, "protocol %lld is reserved by the kernel (use 5 to 255)", x);
                return;
        }
        /* every route carrying this number that we do not want is deleted: never share it */
        for (size_t i = 0; i < sizeof(taken) / sizeof(*taken); i++)
                if (taken[i].proto == x) {
                        yv_error(&c->yv, v, p, "protocol %lld belongs to %s; pick a free one "
                                 "(default 78)", x, taken[i].who);
                        return;
                }
        ((struct nr_router *)o)->route_protocol = (uint8_t)x;
}

static void k_rt_prio(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        /* 0 is the local table's rule and 32766/32767 main/default: stay between them, with
         * room for the handful of rules nestrouter adds */
        if (yv_int(&c->yv, v, p, 1, 32700, &x))
                ((struct nr_router *)o)->rule_priority = (uint32_t)x;
}

static void k_router(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"route_protocol", k_rt_proto, false},
                {"rule_priority", k_rt_prio, false},
                {0},
        };
        (void)obj;
        cw_map(c, v, path, keys, &c->cfg->router);
}

/* ---- uplinks ----------------------------------------------------------------------------- */

static void k_match_name(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_ifname(&c->yv, v, p, m->name))
                return;
        m->n_kinds++;
        m->kind = NR_MATCH_NAME;
}

static void k_match_mac(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_mac(&c->yv, v, p, m->mac))
                return;
        m->n_kinds++;
        m->kind = NR_MATCH_MAC;
}

static void k_match_azure(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_want_scalar(&c->yv, v, p, "primary"))
                return;
        if (strcmp(yv_str(v), "primary")) {
                yv_error(&c->yv, v, p, "'%s': the only Azure role is primary (for another NIC "
                         "use azure_subnet: PREFIX)", yv_str(v));
                return;
        }
        m->n_kinds++;
        m->kind = NR_MATCH_AZURE_PRIMARY;
}

static void k_match_azsub(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_subnet(&c->yv, v, p, &m->azure_subnet))
                return;
        m->n_kinds++;
        m->kind = NR_MATCH_AZURE_SUBNET;
}

static void k_up_match(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"name", k_match_name, false},
                {"mac", k_match_mac, false},
                {"azure", k_match_azure, false},
                {"azure_subnet", k_match_azsub, false},
                {0},
        };
        struct nr_uplink *u = obj;
        size_t errs = c->yv.diags->n_errors;
        cw_map(c, v, path, keys, &u->match);
        if (c->yv.diags->n_errors != errs)
                return;
        if (u->match.n_kinds > 1)
                yv_error(&c->yv, v, path,
                         "give one of name, mac, azure or azure_subnet, not several");
        else if (u->match.kind == NR_MATCH_NONE)
                yv_error(&c->yv, v, path, "needs name, mac, azure: primary or azure_subnet, "
                         "e.g. {name: eth0}");
}

static void k_up_address(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_uplink *u = o;
        if (v && v->type == YAML_SCALAR_NODE && !strcmp(yv_str(v), "dhcp")) {
                u->dhcp = true;
                return;
        }
        if (!yv_want_scalar(&c->yv, v, p, "an address like 10.0.0.4/24, or dhcp"))
                return;
        yv_ifaddr(&c->yv, v, p, &u->address);
}

static void k_up_gateway(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_uplink *u = o;
        u->gateway_set = yv_ip(&c->yv, v, p, &u->gateway);
}

static void k_up_routes(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        struct nr_uplink *u = o;
        u->n_routes = cw_prefix_list(c, v, p, &u->routes);
}

static void k_up_table(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        long long x;
        if (!yv_int(&c->yv, v, p, 1, 0xffffffffLL, &x))
                return;
        if (x >= 253 && x <= 255) {
                yv_error(&c->yv, v, p, "table %lld is the kernel's %s table; pick another", x,
                         x == 253 ? "default" : x == 254 ? "main" : "local");
                return;
        }
        ((struct nr_uplink *)o)->table = (uint32_t)x;
}

static void uplink(struct pctx *c, yaml_node_t *v, const char *path, enum nr_uplink_role role)
{
        static const struct keydef keys[] = {
                {"match", k_up_match, true},
                {"address", k_up_address, true},
                {"gateway", k_up_gateway, false},
                {"routes", k_up_routes, false},
                {"table", k_up_table, false},
                {0},
        };
        struct nr_uplink *u = &c->cfg->uplinks[role];
        if (yv_is_null(v)) {
                yv_error(&c->yv, v, path, "is empty; give match and address, or remove it");
                return;
        }
        u->present = true;
        u->address.len = NR_PREFIX_INVALID; /* until `address:` reads well */
        cw_map(c, v, path, keys, u);
}

static void k_up_nat(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        (void)o;
        uplink(c, v, p, NR_UPLINK_NAT);
}

static void k_up_lan(struct pctx *c, yaml_node_t *v, const char *p, void *o)
{
        (void)o;
        uplink(c, v, p, NR_UPLINK_LAN);
}

static void k_uplinks(struct pctx *c, yaml_node_t *v, const char *path, void *obj)
{
        static const struct keydef keys[] = {
                {"nat", k_up_nat, false},
                {"lan", k_up_lan, false},
                {0},
        };
        (void)obj;
        cw_map(c, v, path, keys, NULL);
}

/* ---- top level --------------------------------------------------------------------------- */

static const struct keydef top_keys[] = {
        {"version", k_version, true},
        {"uplinks", k_uplinks, true},
        {"guests", cfg_k_guests, true},
        {"port_forwards", cfg_k_port_forwards, false},
        {"vms", cfg_k_vms, false},
        {"firewall", k_firewall, false},
        {"router", k_router, false},
        {"libvirt", cfg_k_libvirt, false},
        {"azure", cfg_k_azure, false},
        {"metrics", cfg_k_metrics, false},
        {"bgp", cfg_k_bgp, false},
        {0},
};

static void cfg_init_defaults(struct nr_config *cfg)
{
        cfg->guests.dhcp.enabled = true;
        cfg->guests.dhcp.lease_time = 12 * 3600;
        cfg->guests.dhcp.ping_check = false; /* Windows DHCP's conflict detection is off too */
        cfg->firewall.ssh = true;
        cfg->firewall.block_metadata = true;
        cfg->router.route_protocol = 78;
        cfg->router.rule_priority = 5000;
        snprintf(cfg->libvirt.uri, sizeof(cfg->libvirt.uri), "qemu:///system");
        cfg->libvirt.shutdown_timeout = 120;
        cfg->azure.gateway_subnet = true;
        cfg->azure.scheduled_events = true;
        cfg->azure.event_shutdown_timeout = 120;
        cfg->metrics.interval = 15;
        cfg->metrics.scrape_port = 9100;
        cfg->bgp.peer_asn = NR_BGP_ASN_ROUTE_SERVER;
        cfg->bgp.hold_time = 180; /* Route Server's: keepalive 60 s, hold 180 s */
        cfg->bgp.multihop = 2;    /* NIC2 -> the subnet's gateway -> Route Server */
}

static void syntax_error(struct pctx *c, yaml_parser_t *p)
{
        const yaml_mark_t *m = &p->problem_mark;
        if (p->error == YAML_MEMORY_ERROR) {
                diag_add(c->yv.diags, NR_SEV_ERROR, 0, 0, "",
                         "out of memory parsing the file (%zu bytes)", c->len);
                return;
        }
        if (p->context)
                diag_add(c->yv.diags, NR_SEV_ERROR, (int)m->line + 1, (int)m->column + 1, "",
                         "YAML syntax: %s %s", p->problem ? p->problem : "error", p->context);
        else
                diag_add(c->yv.diags, NR_SEV_ERROR, (int)m->line + 1, (int)m->column + 1, "",
                         "YAML syntax: %s", p->problem ? p->problem : "error");
}

static void parse_root(struct pctx *c)
{
        yaml_node_t *root = yaml_document_get_root_node(c->yv.doc);
        if (!root) {
                diag_add(c->yv.diags, NR_SEV_ERROR, 1, 1, "", "the file is empty");
                return;
        }
        cw_map(c, root, "", top_keys, NULL);
        struct nr_config *cfg = c->cfg;
        int line, col;
        if (!cfg->uplinks[NR_UPLINK_NAT].present && !cfg->uplinks[NR_UPLINK_LAN].present &&
            pos_get(c->yv.pos, "uplinks", &line, &col)) {
                diag_add(c->yv.diags, NR_SEV_ERROR, line, col, "uplinks",
                         "no uplink: configure uplinks.nat, uplinks.lan or both");
        }
}

/* libyaml's time grows with the square of flow nesting (`[[[[...`: 20,000 levels take a second,
 * 100,000 levels twenty), and no configuration needs more than a few levels: a lexical scan
 * finds the first place deeper than NR_CONFIG_MAX_DEPTH before libyaml sees the text. Quoted
 * scalars and comments are skipped; brackets inside plain scalars count, harmlessly (only a run
 * of unclosed ones could reach the limit). Returns false after reporting it. */
static bool depth_ok(const char *text, size_t len, struct nr_diags *diags)
{
        int depth = 0, line = 1, col = 0;
        char quote = 0;
        bool comment = false;
        for (size_t i = 0; i < len; i++) {
                char ch = text[i], prev = i ? text[i - 1] : '\n';
                col++;
                if (ch == '\n') {
                        line++, col = 0, comment = false;
                        continue;
                }
                if (comment)
                        continue;
                if (quote) {
                        if (quote == '"' && ch == '\\')
                                i++, col++;
                        else if (ch == quote)
                                quote = 0;
                        continue;
                }
                if (ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n'))
                        comment = true;
                else if (ch == '"' || ch == '\'')
                        quote = ch;
                else if (ch == '[' || ch == '{')
                        depth++;
                else if ((ch == ']' || ch == '}') && depth > 0)
                        depth--;
                if (depth > NR_CONFIG_MAX_DEPTH) {
                        diag_add(diags, NR_SEV_ERROR, line, col, "",
                                 "nesting deeper than %d levels of [ ] and { }",
                                 NR_CONFIG_MAX_DEPTH);
                        return false;
                }
        }
        return true;
}

int cfg_parse(const char *file, const char *text, size_t len, struct nr_config *cfg,
              struct nr_diags *diags)
{
        yaml_parser_t parser;
        yaml_document_t doc;
        size_t errs = diags->n_errors;

        memset(cfg, 0, sizeof(*cfg));
        cfg->file = strdup(file);
        cfg_init_defaults(cfg);
        if (!depth_ok(text, len, diags))
                return -EBADMSG;
        if (!yaml_parser_initialize(&parser)) {
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "out of memory starting the YAML parser");
                return -EBADMSG;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        struct pctx c = {.yv = {.doc = &doc, .diags = diags, .pos = &cfg->pos}, .cfg = cfg,
                       .len = len};
        if (!yaml_parser_load(&parser, &doc)) {
                syntax_error(&c, &parser);
                yaml_parser_delete(&parser);
                return -EBADMSG;
        }
        parse_root(&c);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        /* defaults are filled even after an error: validation still runs on what did parse,
         * so one run reports the cross-field mistakes too */
        cfg_fill_defaults(cfg);
        return diags->n_errors != errs ? -EINVAL : 0;
}

/* Opened without blocking (a FIFO must not stall the loop) and checked before the first byte is
 * read: only a regular file, at most NR_CONFIG_MAX_BYTES (a link to /dev/zero, a huge file). */
int cfg_read_text(const char *file, char **text, size_t *len, struct nr_diags *diags)
{
        int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                int e = errno;
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "cannot read: %s", strerror(e));
                return -EBADMSG;
        }
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "cannot read: %s", strerror(-r));
        } else if (!S_ISREG(st.st_mode)) {
                r = -EINVAL;
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "not a regular file (%s)",
                         S_ISFIFO(st.st_mode)  ? "a FIFO"
                         : S_ISCHR(st.st_mode) ? "a character device"
                         : S_ISBLK(st.st_mode) ? "a block device"
                         : S_ISDIR(st.st_mode) ? "a directory"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "not a file");
        } else if (st.st_size > NR_CONFIG_MAX_BYTES) {
                r = -EFBIG;
        }
        size_t cap = r == 0 ? (size_t)st.st_size + 1 : 0, n = 0;
        char *buf = r == 0 ? malloc(cap + 1) : NULL;
        if (r == 0 && !buf)
                r = -ENOMEM;
        /* the size can change while we read: never more than the cap, whatever stat said */
        while (r == 0) {
                if (n == cap) {
                        if (cap > NR_CONFIG_MAX_BYTES) {
                                r = -EFBIG;
                                break;
                        }
                        char *nb = realloc(buf, (cap *= 2) + 1);
                        if (!nb) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = nb;
                }
                ssize_t got = read(fd, buf + n, cap - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                else if (got == 0)
                        break;
                else
                        n += (size_t)got;
        }
        close(fd);
        if (r == -EFBIG || (r == 0 && n > NR_CONFIG_MAX_BYTES))
                r = -EFBIG, diag_add(diags, NR_SEV_ERROR, 0, 0, "",
                                     "the file is larger than %d MiB, the most nestrouterd reads",
                                     NR_CONFIG_MAX_BYTES >> 20);
        else if (r == -ENOMEM)
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "out of memory reading %zu bytes", cap);
        else if (r < 0 && r != -EINVAL && diags->n_errors == 0)
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "cannot read: %s", strerror(-r));
        if (r < 0) {
                free(buf);
                return -EBADMSG;
        }
        buf[n] = '\0';
        *text = buf;
        *len = n;
        return 0;
}

int cfg_load(const char *file, struct nr_config *cfg, struct nr_diags *diags)
{
        memset(cfg, 0, sizeof(*cfg));
        char *text;
        size_t len;
        int r = cfg_read_text(file, &text, &len, diags);
        if (r < 0)
                return r;
        r = cfg_parse(file, text, len, cfg, diags);
        free(text);
        return r;
}
