/* YAML text -> struct nr_config. Each section has a table of known keys; unknown keys get a
 * "did you mean" suggestion, wrong types and bad values an error at the value's line:column.
 * Parsing goes on after an error so that one run reports every mistake in the file. */
#include "core/config/config.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config/config_walk.h"
#include "core/config/yamlfast.h"
#include "core/config/yamlval.h"
#include "core/lib/strbuf.h"

/* ---- version, firewall, router ---------------------------------------------------------- */

static bool check_version(struct pctx *c, const struct yf_node *v, const char *path,
                          const void *val)
{
        long long x = *(const long long *)val;
        if (x != 1) {
                yv_error(&c->yv, v, path, "unsupported version %lld (this nestrouterd reads version 1)",
                         x);
                return false;
        }
        return true;
}

static const struct keydef firewall_keys[] = {
        {.name = "ssh", .kind = CFG_BOOL, CFG_FIELD(struct nr_firewall, ssh), .def = true,
         .doc_type = "boolean"},
        {.name = "ssh_from", .kind = CFG_PREFIX_LIST, CFG_FIELD(struct nr_firewall, ssh_from),
         .off_n = offsetof(struct nr_firewall, n_ssh_from), .doc_type = "list of prefixes"},
        {.name = "block_metadata", .kind = CFG_BOOL,
         CFG_FIELD(struct nr_firewall, block_metadata), .def = true, .doc_type = "boolean"},
        {0},
};

static bool check_rt_proto(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        long long x = *(const long long *)val;
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
                return false;
        }
        /* every route carrying this number that we do not want is deleted: never share it */
        for (size_t i = 0; i < sizeof(taken) / sizeof(*taken); i++)
                if (taken[i].proto == x) {
                        yv_error(&c->yv, v, p, "protocol %lld belongs to %s; pick a free one "
                                 "(default 78)", x, taken[i].who);
                        return false;
                }
        return true;
}

/* rule_priority 1 to 32700: 0 is the local table's rule and 32766/32767 main/default; stay
 * between them, with room for the handful of rules nestrouter adds */
static const struct keydef router_keys[] = {
        {.name = "route_protocol", .kind = CFG_UINT, CFG_FIELD(struct nr_router, route_protocol),
         .min = 0, .max = 255, .check = check_rt_proto, .def = 78,
         .doc_type = "integer 5–255, except the numbers in the table below"},
        {.name = "rule_priority", .kind = CFG_UINT, CFG_FIELD(struct nr_router, rule_priority),
         .min = 1, .max = 32700, .def = 5000, .doc_type = "integer 1–32700"},
        {0},
};

/* ---- uplinks ----------------------------------------------------------------------------- */

static void k_match_name(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_ifname(&c->yv, v, p, m->name))
                return;
        m->n_kinds++;
        m->kind = NR_MATCH_NAME;
}

static void k_match_mac(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_mac(&c->yv, v, p, m->mac))
                return;
        m->n_kinds++;
        m->kind = NR_MATCH_MAC;
}

static void k_match_azure(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

static void k_match_azsub(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_match *m = o;
        if (!yv_subnet(&c->yv, v, p, &m->azure_subnet))
                return;
        m->n_kinds++;
        m->kind = NR_MATCH_AZURE_SUBNET;
}

static const struct keydef match_keys[] = {
        {.name = "name", .fn = k_match_name, .kind = CFG_IFNAME,
         CFG_FIELD(struct nr_match, name), .doc_type = "interface name", .doc_default = "none"},
        {.name = "mac", .fn = k_match_mac, .kind = CFG_MAC, CFG_FIELD(struct nr_match, mac),
         .doc_type = "MAC address", .doc_default = "none"},
        {.name = "azure", .fn = k_match_azure, .doc_type = "`primary`", .doc_default = "none"},
        {.name = "azure_subnet", .fn = k_match_azsub, .kind = CFG_PREFIX,
         CFG_FIELD(struct nr_match, azure_subnet), .doc_type = "prefix", .doc_default = "none"},
        {0},
};

static void k_up_match(struct pctx *c, const struct yf_node *v, const char *path, void *obj)
{
        struct nr_uplink *u = obj;
        size_t errs = c->yv.diags->n_errors;
        cw_map(c, v, path, match_keys, &u->match);
        if (c->yv.diags->n_errors != errs)
                return;
        if (u->match.n_kinds > 1)
                yv_error(&c->yv, v, path,
                         "give one of name, mac, azure or azure_subnet, not several");
        else if (u->match.kind == NR_MATCH_NONE)
                yv_error(&c->yv, v, path, "needs name, mac, azure: primary or azure_subnet, "
                         "e.g. {name: eth0}");
}

/* the one way it was given, `match: {name: eth0}` */
static void put_up_match(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const struct nr_match *m = &((const struct nr_uplink *)obj)->match;
        buf_printf(b, "%*s%s: {", indent, "", k->name);
        switch (m->kind) {
        case NR_MATCH_MAC:
                buf_printf(b, "mac: \"%s\"", mac_s(m->mac).s);
                break;
        case NR_MATCH_AZURE_PRIMARY:
                buf_puts(b, "azure: primary");
                break;
        case NR_MATCH_AZURE_SUBNET:
                buf_printf(b, "azure_subnet: %s", prefix_s(m->azure_subnet).s);
                break;
        case NR_MATCH_NAME:
        case NR_MATCH_NONE:
                buf_printf(b, "name: %s", m->name);
                break;
        }
        buf_puts(b, "}\n");
}

static void k_up_address(struct pctx *c, const struct yf_node *v, const char *p, void *o)
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

/* the address and, when it is static or was given, the gateway */
static void put_up_address(struct nr_buf *b, const struct keydef *k, const void *obj,
                           int indent)
{
        const struct nr_uplink *u = obj;
        if (u->dhcp)
                buf_printf(b, "%*s%s: dhcp\n", indent, "", k->name);
        else
                buf_printf(b, "%*s%s: %s\n", indent, "", k->name, prefix_s(u->address).s);
}

static void put_up_gateway(struct nr_buf *b, const struct keydef *k, const void *obj,
                           int indent)
{
        const struct nr_uplink *u = obj;
        if (!u->dhcp || u->gateway_set)
                buf_printf(b, "%*s%s: %s\n", indent, "", k->name, ip_s(u->gateway).s);
}

static void k_up_gateway(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        struct nr_uplink *u = o;
        u->gateway_set = yv_ip(&c->yv, v, p, &u->gateway);
}

static bool check_up_table(struct pctx *c, const struct yf_node *v, const char *p, const void *val)
{
        long long x = *(const long long *)val;
        if (x >= 253 && x <= 255) {
                yv_error(&c->yv, v, p, "table %lld is the kernel's %s table; pick another", x,
                         x == 253 ? "default" : x == 254 ? "main" : "local");
                return false;
        }
        return true;
}

static const struct keydef uplink_keys[] = {
        {.name = "match", .fn = k_up_match, .required = true, .kind = CFG_MAP,
         .off = offsetof(struct nr_uplink, match), .sub = match_keys, .print = put_up_match,
         .doc_type = "mapping: `name`, `mac`, `azure` or `azure_subnet`"},
        {.name = "address", .fn = k_up_address, .required = true, .print = put_up_address,
         .doc_type = "interface address (/8 to /30), or `dhcp`"},
        {.name = "gateway", .fn = k_up_gateway, .kind = CFG_IPV4,
         CFG_FIELD(struct nr_uplink, gateway), .print = put_up_gateway,
         .doc_type = "IPv4 address",
         .doc_default = "first host of the address's subnet (static address only)"},
        {.name = "routes", .kind = CFG_PREFIX_LIST, CFG_FIELD(struct nr_uplink, routes),
         .off_n = offsetof(struct nr_uplink, n_routes), .doc_type = "list of prefixes"},
        {.name = "table", .kind = CFG_UINT, CFG_FIELD(struct nr_uplink, table), .min = 1,
         .max = 0xffffffffLL, .check = check_up_table,
         .doc_type = "integer 1–4294967295, except 253, 254, 255",
         .doc_default = "`1001` (nat), `1002` (lan)"},
        {0},
};

static void uplink(struct pctx *c, const struct yf_node *v, const char *path,
                   enum nr_uplink_role role)
{
        struct nr_uplink *u = &c->cfg->uplinks[role];
        if (yv_is_null(v)) {
                yv_error(&c->yv, v, path, "is empty; give match and address, or remove it");
                return;
        }
        u->present = true;
        u->address.len = NR_PREFIX_INVALID; /* until `address:` reads well */
        cw_map(c, v, path, uplink_keys, u);
}

static void k_up_nat(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        (void)o;
        uplink(c, v, p, NR_UPLINK_NAT);
}

static void k_up_lan(struct pctx *c, const struct yf_node *v, const char *p, void *o)
{
        (void)o;
        uplink(c, v, p, NR_UPLINK_LAN);
}

/* nat and lan have the same keys; the handlers refuse an empty uplink */
static const struct keydef uplink_roles[] = {
        {.name = "nat", .fn = k_up_nat, .kind = CFG_MAP, .flags = CFG_F_PRESENT,
         .off = NR_UPLINK_NAT * sizeof(struct nr_uplink), .sub = uplink_keys,
         .doc_type = "mapping", .doc_default = "none"},
        {.name = "lan", .fn = k_up_lan, .kind = CFG_MAP, .flags = CFG_F_PRESENT,
         .off = NR_UPLINK_LAN * sizeof(struct nr_uplink), .sub = uplink_keys,
         .doc_type = "mapping", .doc_default = "none"},
        {0},
};

/* ---- top level --------------------------------------------------------------------------- */

const struct keydef cfg_top_keys[] = {
        {.name = "version", .required = true, .kind = CFG_UINT,
         CFG_FIELD(struct nr_config, version), .min = 0, .max = 1000000, .check = check_version,
         .doc_type = "integer"},
        {.name = "uplinks", .required = true, .kind = CFG_MAP,
         .off = offsetof(struct nr_config, uplinks), .sub = uplink_roles,
         .doc_type = "mapping with `nat` and/or `lan`"},
        {.name = "guests", .required = true, .kind = CFG_MAP,
         .off = offsetof(struct nr_config, guests), .sub = cfg_guests_keys,
         .doc_type = "mapping"},
        {.name = "port_forwards", .kind = CFG_LIST, .flags = CFG_F_FLOW,
         CFG_FIELD(struct nr_config, port_forwards),
         .item_size = sizeof(struct nr_port_forward),
         .off_n = offsetof(struct nr_config, n_port_forwards), .sub = cfg_forward_keys,
         .doc_type = "list of mappings", .doc_default = "empty"},
        {.name = "vms", .fn = cfg_k_vms, .kind = CFG_LIST, CFG_FIELD(struct nr_config, vms),
         .item_size = sizeof(struct nr_vm), .off_n = offsetof(struct nr_config, n_vms),
         .sub = cfg_vm_keys, .doc_type = "list of mappings", .doc_default = "empty"},
        {.name = "firewall", .kind = CFG_MAP, .off = offsetof(struct nr_config, firewall),
         .sub = firewall_keys, .doc_type = "mapping"},
        {.name = "router", .kind = CFG_MAP, .off = offsetof(struct nr_config, router),
         .sub = router_keys, .doc_type = "mapping"},
        {.name = "libvirt", .kind = CFG_MAP, .off = offsetof(struct nr_config, libvirt),
         .sub = cfg_libvirt_keys, .doc_type = "mapping"},
        {.name = "azure", .kind = CFG_MAP, .flags = CFG_F_PRESENT,
         .off = offsetof(struct nr_config, azure), .sub = cfg_azure_keys, .doc_type = "mapping",
         .doc_default = "absent: generated Azure artefacts use placeholders"},
        {.name = "metrics", .kind = CFG_MAP, .off = offsetof(struct nr_config, metrics),
         .sub = cfg_metrics_keys, .doc_type = "mapping"},
        {.name = "bgp", .fn = cfg_k_bgp, .kind = CFG_MAP, .flags = CFG_F_PRESENT,
         .off = offsetof(struct nr_config, bgp), .sub = cfg_bgp_keys, .doc_type = "mapping",
         .doc_default = "absent: no BGP (route-table mode); with it `asn` and `peers` are "
                        "required"},
        {0},
};

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

static void parse_root(struct pctx *c, const struct yf_node *root)
{
        if (!root) {
                diag_add(c->yv.diags, NR_SEV_ERROR, 1, 1, "", "the file is empty");
                return;
        }
        cw_map(c, root, "", cfg_top_keys, c->cfg);
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

/* NR_YAML_CROSSCHECK (the sanitizer build the tests run): every file the fast path reads is
 * read by libyaml too, and a different tree stops the program. */
static void crosscheck(const struct yf_doc *fast, const char *text, size_t len)
{
#ifdef NR_YAML_CROSSCHECK
        char why[512];
        if (yf_check(fast, text, len, why, sizeof(why)) == 0) {
                fprintf(stderr, "yamlfast: differs from libyaml: %s\n--- text\n%.*s\n", why,
                        (int)len, text);
                abort();
        }
#else
        (void)fast, (void)text, (void)len;
#endif
}

/* libyaml's document API, for what the fast path declines */
static int parse_libyaml(struct pctx *c, const char *text, size_t len)
{
        yaml_parser_t parser;
        yaml_document_t doc;
        if (!yaml_parser_initialize(&parser)) {
                diag_add(c->yv.diags, NR_SEV_ERROR, 0, 0, "",
                         "out of memory starting the YAML parser");
                return -EBADMSG;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &doc)) {
                syntax_error(c, &parser);
                yaml_parser_delete(&parser);
                return -EBADMSG;
        }
        struct yf_doc tree;
        int r = yf_from_libyaml(&tree, &doc);
        if (r < 0)
                diag_add(c->yv.diags, NR_SEV_ERROR, 0, 0, "",
                         "out of memory parsing the file (%zu bytes)", c->len);
        else
                parse_root(c, tree.root);
        yf_free(&tree);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        return r < 0 ? -EBADMSG : 0;
}

/* own: text, when the config's position map is to free it (else the caller keeps it for as
 * long as cfg->pos is asked) */
static int parse(const char *file, const char *text, size_t len, char *own, struct nr_config *cfg,
                 struct nr_diags *diags)
{
        struct yf_doc fast;
        size_t errs = diags->n_errors;

        memset(cfg, 0, sizeof(*cfg));
        cfg->file = strdup(file);
        pos_defer(&cfg->pos, text, len, own, cfg_pos_fill);
        cfg_schema_defaults(cfg_top_keys, cfg);
        struct pctx c = {.yv = {.diags = diags, .pos = &cfg->pos}, .cfg = cfg, .len = len};
        int r = yf_load(&fast, text, len);
        if (r < 0) {
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "out of memory parsing the file (%zu bytes)",
                         len);
                return -EBADMSG;
        }
        if (r > 0) {
                /* the fast reader's own limits bound the depth (yamlfast.c) */
                crosscheck(&fast, text, len);
                parse_root(&c, fast.root);
                yf_free(&fast);
        } else if (!depth_ok(text, len, diags) || parse_libyaml(&c, text, len) < 0) {
                return -EBADMSG;
        }
        /* defaults are filled even after an error: validation still runs on what did parse,
         * so one run reports the cross-field mistakes too */
        cfg_fill_defaults(cfg);
        return diags->n_errors != errs ? -EINVAL : 0;
}

int cfg_parse_borrowed(const char *file, const char *text, size_t len, struct nr_config *cfg,
                       struct nr_diags *diags)
{
        return parse(file, text, len, NULL, cfg, diags);
}

int cfg_parse(const char *file, const char *text, size_t len, struct nr_config *cfg,
              struct nr_diags *diags)
{
        char *copy = malloc(len + 1);
        if (!copy) {
                memset(cfg, 0, sizeof(*cfg));
                diag_add(diags, NR_SEV_ERROR, 0, 0, "", "out of memory reading %zu bytes", len);
                return -EBADMSG;
        }
        memcpy(copy, text, len);
        copy[len] = '\0';
        return parse(file, copy, len, copy, cfg, diags);
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
        return parse(file, text, len, text, cfg, diags); /* the position map keeps the text */
}
