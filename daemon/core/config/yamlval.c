/* Typed reads of YAML scalars with positioned errors. Every parse failure names what was
 * expected, with an example, so a user can fix the file without opening the docs. */
#include "core/config/yamlval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/names.h"

static void yv_vdiag(struct yv_ctx *c, enum nr_severity sev, const struct yf_node *n,
                     const char *path, const char *fmt, va_list ap)
{
        int line = n ? (int)n->line + 1 : 1;
        int col = n ? (int)n->col + 1 : 1;
        diag_vadd(c->diags, sev, line, col, path, fmt, ap);
}

void yv_error(struct yv_ctx *c, const struct yf_node *n, const char *path, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        yv_vdiag(c, NR_SEV_ERROR, n, path, fmt, ap);
        va_end(ap);
}

void yv_warn(struct yv_ctx *c, const struct yf_node *n, const char *path, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        yv_vdiag(c, NR_SEV_WARNING, n, path, fmt, ap);
        va_end(ap);
}

bool yv_is_null(const struct yf_node *n)
{
        if (!n)
                return true;
        if (n->type != YAML_SCALAR_NODE || n->style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        const char *s = n->str;
        if (*s != '~' && *s != 'n' && *s != 'N')
                return !*s; /* asked of every value: most are not null by their first letter */
        return !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

const char *yv_kind(const struct yf_node *n)
{
        if (yv_is_null(n))
                return "nothing (null)";
        switch ((yaml_node_type_t)n->type) {
        case YAML_MAPPING_NODE:
                return "a mapping";
        case YAML_SEQUENCE_NODE:
                return "a list";
        case YAML_SCALAR_NODE:
                return "a single value";
        case YAML_NO_NODE:
                break;
        }
        return "nothing";
}

bool yv_want_scalar(struct yv_ctx *c, const struct yf_node *n, const char *path, const char *what)
{
        if (n && n->type == YAML_SCALAR_NODE && !yv_is_null(n))
                return true;
        yv_error(c, n, path, "expected %s, got %s", what, yv_kind(n));
        return false;
}

const char *yv_str(const struct yf_node *n)
{
        return n->str;
}

bool yv_bool(struct yv_ctx *c, const struct yf_node *n, const char *path, bool *out)
{
        static const char *const t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
        static const char *const f[] = {"false", "False", "FALSE", "no", "No", "off", "Off"};
        if (!yv_want_scalar(c, n, path, "true or false"))
                return false;
        for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
                if (!strcmp(yv_str(n), t[i]))
                        return *out = true, true;
                if (!strcmp(yv_str(n), f[i]))
                        return *out = false, true;
        }
        yv_error(c, n, path, "expected true or false, got '%s'", yv_str(n));
        return false;
}

bool yv_int(struct yv_ctx *c, const struct yf_node *n, const char *path, long long min,
            long long max, long long *out)
{
        if (!yv_want_scalar(c, n, path, "a number"))
                return false;
        const char *s = yv_str(n);
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*s < '0' || *s > '9' || *end || errno == ERANGE ||
            (*s == '0' && s[1] >= '0' && s[1] <= '9')) {
                yv_error(c, n, path, "expected a whole number, got '%s'", s);
                return false;
        }
        if (v < min || v > max) {
                yv_error(c, n, path, "%lld is out of range (%lld to %lld)", v, min, max);
                return false;
        }
        *out = v;
        return true;
}

bool yv_ip(struct yv_ctx *c, const struct yf_node *n, const char *path, uint32_t *out)
{
        if (!yv_want_scalar(c, n, path, "an IPv4 address like 10.0.2.1"))
                return false;
        if (ip_parse(yv_str(n), out) == 0 && *out != 0 && *out != 0xffffffffu)
                return true;
        if (ip_parse(yv_str(n), out) == 0)
                yv_error(c, n, path, "%s is not a host address", yv_str(n));
        else
                yv_error(c, n, path, "'%s' is not an IPv4 address (like 10.0.2.1)", yv_str(n));
        *out = 0;
        return false;
}

static bool yv_prefix(struct yv_ctx *c, const struct yf_node *n, const char *path,
                      struct nr_prefix *out)
{
        out->len = NR_PREFIX_INVALID;
        if (!yv_want_scalar(c, n, path, "a prefix like 10.0.2.0/24"))
                return false;
        if (prefix_parse(yv_str(n), out) == 0)
                return true;
        *out = (struct nr_prefix){0, NR_PREFIX_INVALID};
        uint32_t a;
        if (ip_parse(yv_str(n), &a) == 0)
                yv_error(c, n, path, "'%s' has no prefix length (like %s/24; /32 is one host)",
                         yv_str(n), yv_str(n));
        else
                yv_error(c, n, path, "'%s' is not an IPv4 prefix (like 10.0.2.0/24)", yv_str(n));
        return false;
}

bool yv_subnet(struct yv_ctx *c, const struct yf_node *n, const char *path, struct nr_prefix *out)
{
        if (!yv_prefix(c, n, path, out))
                return false;
        if (prefix_has_host_bits(*out)) {
                struct nr_prefix net = {prefix_network(*out), out->len};
                yv_error(c, n, path, "%s has host bits set (did you mean %s?)", yv_str(n),
                         prefix_s(net).s);
                out->len = NR_PREFIX_INVALID;
                return false;
        }
        return true;
}

bool yv_ifaddr(struct yv_ctx *c, const struct yf_node *n, const char *path, struct nr_prefix *out)
{
        if (!yv_prefix(c, n, path, out))
                return false;
        if (out->len > 30 || out->len < 8) {
                /* a /31 or /32 leaves no room for a gateway; shorter than /8 is a typo */
                yv_error(c, n, path, "prefix length /%u: an uplink subnet must be /8 to /30",
                         out->len);
                out->len = NR_PREFIX_INVALID;
                return false;
        }
        if (out->addr == prefix_network(*out) || out->addr == prefix_broadcast(*out)) {
                yv_error(c, n, path, "%s is the %s address of its subnet, not a host address",
                         yv_str(n), out->addr == prefix_network(*out) ? "network" : "broadcast");
                out->len = NR_PREFIX_INVALID;
                return false;
        }
        return true;
}

bool yv_mac(struct yv_ctx *c, const struct yf_node *n, const char *path, uint8_t mac[6])
{
        if (!yv_want_scalar(c, n, path, "a MAC address like \"52:54:00:00:00:10\""))
                return false;
        if (mac_parse(yv_str(n), mac) < 0) {
                yv_error(c, n, path, "'%s' is not a MAC address (like \"52:54:00:00:00:10\")",
                         yv_str(n));
                return false;
        }
        if (mac[0] & 1) {
                yv_error(c, n, path, "%s is a multicast address, not a NIC's", yv_str(n));
                return false;
        }
        if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
                yv_error(c, n, path, "00:00:00:00:00:00 is not a usable MAC address");
                return false;
        }
        return true;
}

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool yv_ifname(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out)
{
        if (!yv_want_scalar(c, n, path, "an interface name"))
                return false;
        const char *s = yv_str(n);
        if (strlen(s) > 15) {
                yv_error(c, n, path, "'%s' is %zu bytes long; interface names have at most 15",
                         s, strlen(s));
                return false;
        }
        if (!name_ifname_ok(s)) {
                yv_error(c, n, path, "'%s' is not a valid interface name (letters, digits, '.', "
                         "'-' and '_')", s);
                return false;
        }
        strcpy(out, s);
        return true;
}

bool yv_name(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out, size_t size)
{
        if (!yv_want_scalar(c, n, path, "a name"))
                return false;
        const char *s = yv_str(n);
        if (strlen(s) >= size || !name_hostname_ok(s)) {
                yv_error(c, n, path,
                         "'%s' is not a valid host name (letters, digits and '-', at most 63, "
                         "not all digits, not starting or ending with '-')", s);
                return false;
        }
        strcpy(out, s);
        return true;
}

bool yv_domain(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out, size_t size)
{
        if (!yv_want_scalar(c, n, path, "a DNS domain like lab.internal"))
                return false;
        const char *s = yv_str(n);
        if (strlen(s) >= size || !name_domain_ok(s)) {
                yv_error(c, n, path, "'%s' is not a valid DNS domain (like lab.internal)", s);
                return false;
        }
        strcpy(out, s);
        return true;
}

bool yv_cpu_model(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out,
                  size_t size)
{
        const char *s = yv_str(n);
        bool ok = strlen(s) > 0 && strlen(s) < size && is_alnum(s[0]);
        for (const char *p = s; ok && *p; p++)
                ok = is_alnum(*p) || *p == '-' || *p == '_' || *p == '.';
        if (!ok) {
                yv_error(c, n, path, "'%s' is not a CPU model name (like Skylake-Client-IBRS)", s);
                return false;
        }
        strcpy(out, s);
        return true;
}

int yv_parse_duration(const char *s, uint32_t *out)
{
        if (!strcmp(s, "infinite")) {
                *out = 0;
                return 0;
        }
        uint64_t total = 0;
        bool any = false;
        while (*s) {
                char *end;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                unsigned long long v = strtoull(s, &end, 10);
                uint64_t mult;
                switch (*end) {
                case 'd': mult = 86400; end++; break;
                case 'h': mult = 3600; end++; break;
                case 'm': mult = 60; end++; break;
                case 's': mult = 1; end++; break;
                case '\0': mult = any ? 0 : 1; break;
                default: return -EINVAL;
                }
                if (!mult || v > UINT32_MAX)
                        return -EINVAL; /* "1h30" is ambiguous */
                total += v * mult;
                if (total > UINT32_MAX - 1)
                        return -ERANGE;
                any = true;
                s = end;
        }
        if (!any)
                return -EINVAL;
        *out = (uint32_t)total;
        return 0;
}

bool yv_duration(struct yv_ctx *c, const struct yf_node *n, const char *path, uint32_t *out)
{
        if (!yv_want_scalar(c, n, path, "a duration like 12h"))
                return false;
        int r = yv_parse_duration(yv_str(n), out);
        if (r == -ERANGE)
                yv_error(c, n, path, "'%s' is too long (at most 136 years)", yv_str(n));
        else if (r < 0)
                yv_error(c, n, path,
                         "'%s' is not a duration (like 12h, 30m, 1d, 1h30m, 3600 or infinite)",
                         yv_str(n));
        return r == 0;
}

int yv_parse_size(const char *s, uint64_t *out)
{
        static const struct {
                const char *suffix;
                unsigned shift;
        } units[] = {
                {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
                {"K", 10},   {"M", 20},   {"G", 30},   {"T", 40},
        };
        char *end;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -ERANGE;
        if (v == 0 && !*end) {
                *out = 0; /* "0" needs no unit; the caller says why it is too small */
                return 0;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
                if (strcmp(end, units[i].suffix))
                        continue;
                if (v > (UINT64_MAX >> units[i].shift))
                        return -ERANGE;
                *out = (uint64_t)v << units[i].shift;
                return 0;
        }
        return -EINVAL;
}

bool yv_size(struct yv_ctx *c, const struct yf_node *n, const char *path, uint64_t *out)
{
        if (!yv_want_scalar(c, n, path, "a size like 2GiB"))
                return false;
        int r = yv_parse_size(yv_str(n), out);
        if (r == -ERANGE)
                yv_error(c, n, path, "'%s' is too large", yv_str(n));
        else if (r < 0 && strlen(yv_str(n)) > 2 && !strcmp(yv_str(n) + strlen(yv_str(n)) - 1, "B") &&
                 strchr("KMGT", yv_str(n)[strlen(yv_str(n)) - 2]))
                yv_error(c, n, path, "'%s': sizes are binary here; write %.*siB", yv_str(n),
                         (int)strlen(yv_str(n)) - 1, yv_str(n));
        else if (r < 0)
                yv_error(c, n, path,
                         "'%s' is not a size with a unit (like 2GiB, 512MiB or 4G)", yv_str(n));
        return r == 0;
}

static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 63 || lb > 63)
                return 64;
        size_t prev[64], cur[64];
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
                        size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
                        cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
                }
                memcpy(prev, cur, sizeof(prev));
        }
        return prev[lb];
}

const char *yv_suggest(const char *word, const char *const *cand, size_t n)
{
        const char *best = NULL;
        size_t best_d = 3; /* at most two edits away, and less than half the word */
        for (size_t i = 0; i < n; i++) {
                size_t d = edit_distance(word, cand[i]);
                if (d < best_d && d * 2 < strlen(cand[i]) + 1) {
                        best = cand[i];
                        best_d = d;
                }
        }
        return best;
}
