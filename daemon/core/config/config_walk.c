/* The table-driven walker under the config parser: known keys, duplicates, required keys and
 * lists of mappings. Positions are not recorded here: keypos.c finds them when a check asks. */
#include "core/config/config_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config/yamlfast.h"

/* Key paths, built for every key of the file (tens of thousands in a large one): plain copies,
 * cut at the buffer's end as snprintf would. "PATH.NAME" (NAME alone at the top) */
void cw_path_key(char *out, size_t size, const char *path, const char *name)
{
        size_t a = strlen(path), b = strlen(name), n = 0;
        if (a >= size)
                a = size - 1;
        memcpy(out, path, a);
        n = a;
        if (a && n + 1 < size)
                out[n++] = '.';
        if (b > size - 1 - n)
                b = size - 1 - n;
        memcpy(out + n, name, b);
        out[n + b] = '\0';
}

/* "PATH[I]" */
void cw_path_index(char *out, size_t size, const char *path, size_t i)
{
        char num[24], *d = num + sizeof(num);
        *--d = '\0';
        *--d = ']';
        do
                *--d = (char)('0' + i % 10);
        while ((i /= 10));
        *--d = '[';
        size_t a = strlen(path), b = strlen(d);
        if (a >= size)
                a = size - 1;
        memcpy(out, path, a);
        if (b > size - 1 - a)
                b = size - 1 - a;
        memcpy(out + a, d, b);
        out[a + b] = '\0';
}

void *cw_calloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                abort();
        return p;
}

/* A null value where a mapping or list is expected reads as an empty one (`dhcp:` alone). */
bool cw_want_map(struct pctx *c, const struct yf_node *n, const char *path)
{
        if (n && n->type == YAML_MAPPING_NODE)
                return true;
        if (!yv_is_null(n))
                yv_error(&c->yv, n, path, "expected a mapping (key: value lines), got %s",
                         yv_kind(n));
        return false;
}

size_t cw_seq_len(struct pctx *c, const struct yf_node *n, const char *path)
{
        if (n && n->type == YAML_SEQUENCE_NODE)
                return n->n;
        if (!yv_is_null(n))
                yv_error(&c->yv, n, path, "expected a list, got %s", yv_kind(n));
        return 0;
}

const struct yf_node *cw_seq_item(struct pctx *c, const struct yf_node *n, size_t i)
{
        (void)c;
        return n->kids[i];
}

static void unknown_key(struct pctx *c, const struct yf_node *k, const char *path, const char *name,
                        const struct keydef *keys)
{
        const char *names[32];
        size_t n = 0;
        for (; keys[n].name && n < 32; n++)
                names[n] = keys[n].name;
        const char *hint = yv_suggest(name, names, n);
        if (hint)
                yv_error(&c->yv, k, path, "unknown key '%s' (did you mean '%s'?)", name, hint);
        else
                yv_error(&c->yv, k, path, "unknown key '%s'", name);
}

/* "a, b or c" */
static void enum_names(const char *const *names, char *out, size_t size)
{
        size_t n = 0, len = 0;
        while (names[n])
                n++;
        out[0] = '\0';
        for (size_t i = 0; i < n && len < size; i++)
                len += (size_t)snprintf(out + len, size - len, "%s%s",
                                        i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
}

static void read_enum(struct pctx *c, const struct yf_node *v, const char *p,
                      const struct keydef *k, void *f)
{
        char what[128];
        bool scalar = v && v->type == YAML_SCALAR_NODE && !yv_is_null(v);
        for (size_t i = 0; scalar && k->names[i]; i++)
                if (!strcmp(yv_str(v), k->names[i])) {
                        cfg_field_set_uint(f, k->size, i);
                        return;
                }
        enum_names(k->names, what, sizeof(what)); /* only for the message */
        if (yv_want_scalar(&c->yv, v, p, what))
                yv_error(&c->yv, v, p, "%s must be %s, not '%s'", k->name, what, yv_str(v));
}

static void read_uint(struct pctx *c, const struct yf_node *v, const char *p,
                      const struct keydef *k, void *f)
{
        long long x;
        if (yv_int(&c->yv, v, p, k->min, k->max, &x) && (!k->check || k->check(c, v, p, &x)))
                cfg_field_set_uint(f, k->size, (unsigned long long)x);
}

static void read_duration(struct pctx *c, const struct yf_node *v, const char *p,
                          const struct keydef *k, void *f)
{
        uint32_t t;
        if (!yv_duration(&c->yv, v, p, &t))
                return;
        long long x = t;
        if (k->max && (x < k->min || x > k->max))
                yv_error(&c->yv, v, p, "%s", k->range_msg);
        else if (!k->check || k->check(c, v, p, &x))
                cfg_field_set_uint(f, k->size, t);
}

static void read_string(struct pctx *c, const struct yf_node *v, const char *p,
                        const struct keydef *k, void *f)
{
        if (!yv_want_scalar(&c->yv, v, p, k->what))
                return;
        const char *s = yv_str(v);
        if (k->check(c, v, p, s) && strlen(s) < k->size)
                strcpy(f, s);
}

/* An absolute path or a text, strdup'ed into a char * */
static void read_text(struct pctx *c, const struct yf_node *v, const char *p,
                      const struct keydef *k, void *f)
{
        if (!yv_want_scalar(&c->yv, v, p, k->what))
                return;
        const char *s = yv_str(v);
        if (k->kind == CFG_PATH && s[0] != '/') {
                yv_error(&c->yv, v, p, "'%s' is not an absolute path", s);
                return;
        }
        if (k->check && !k->check(c, v, p, s))
                return;
        char **out = f;
        free(*out); /* never set twice (duplicate keys are refused), but stay leak-free */
        *out = strdup(s);
        if (!*out)
                abort();
}

/* The typed read of a key without a handler: obj + .off gets the value only when it is good. */
static void read_value(struct pctx *c, const struct yf_node *v, const char *p,
                       const struct keydef *k, void *obj)
{
        char *f = (char *)obj + k->off;
        uint32_t a;
        uint64_t z;
        struct nr_prefix pf;
        char s[YV_PATH_MAX];
        switch (k->kind) {
        case CFG_BOOL:
                yv_bool(&c->yv, v, p, (bool *)f);
                break;
        case CFG_UINT:
                read_uint(c, v, p, k, f);
                break;
        case CFG_DURATION:
                read_duration(c, v, p, k, f);
                break;
        case CFG_SIZE:
                if (yv_size(&c->yv, v, p, &z) && (!k->check || k->check(c, v, p, &z)))
                        cfg_field_set_uint(f, k->size, z);
                break;
        case CFG_TEXT:
        case CFG_PATH:
                read_text(c, v, p, k, f);
                break;
        case CFG_IPV4:
                if (yv_ip(&c->yv, v, p, &a) && (!k->check || k->check(c, v, p, &a)))
                        cfg_field_set_uint(f, k->size, a);
                break;
        case CFG_PREFIX:
                if (yv_subnet(&c->yv, v, p, &pf) && (!k->check || k->check(c, v, p, &pf)))
                        *(struct nr_prefix *)f = pf;
                break;
        case CFG_IFADDR:
                if (yv_ifaddr(&c->yv, v, p, &pf))
                        *(struct nr_prefix *)f = pf;
                break;
        case CFG_MAC:
                yv_mac(&c->yv, v, p, (uint8_t *)f);
                break;
        case CFG_IFNAME:
                yv_ifname(&c->yv, v, p, f);
                break;
        case CFG_HOSTNAME:
                if (yv_name(&c->yv, v, p, s, k->size))
                        strcpy(f, s);
                break;
        case CFG_DOMAIN:
                if (yv_domain(&c->yv, v, p, s, k->size))
                        strcpy(f, s);
                break;
        case CFG_ENUM:
                read_enum(c, v, p, k, f);
                break;
        case CFG_STRING:
                read_string(c, v, p, k, f);
                break;
        case CFG_PREFIX_LIST:
                *(size_t *)((char *)obj + k->off_n) =
                        cw_prefix_list(c, v, p, (struct nr_prefix **)f);
                break;
        case CFG_LIST: {
                size_t n = cw_seq_len(c, v, p);
                char *items = cw_calloc(n, k->item_size);
                for (size_t i = 0; i < n; i++)
                        cfg_schema_defaults(k->sub, items + i * k->item_size);
                *(void **)f = items;
                *(size_t *)((char *)obj + k->off_n) = cw_list(c, v, p, items, k->item_size, k->sub);
                break;
        }
        case CFG_MAP:
                if (k->flags & CFG_F_PRESENT)
                        *(bool *)f = true;
                cw_map(c, v, p, k->sub, f);
                break;
        case CFG_CUSTOM:
                break; /* a custom key has its .fn */
        }
}

void cw_map(struct pctx *c, const struct yf_node *map, const char *path, const struct keydef *keys,
                     void *obj)
{
        uint32_t seen = 0;
        char sub[YV_PATH_MAX];

        if (!cw_want_map(c, map, path)) {
                if (!yv_is_null(map))
                        return; /* the type error says it all */
                map = NULL;
        } else {
                for (uint32_t j = 0; j < map->n; j += 2) {
                        const struct yf_node *k = map->kids[j], *v = map->kids[j + 1];
                        if (k->type != YAML_SCALAR_NODE) {
                                yv_error(&c->yv, k, path, "a key must be a plain word");
                                continue;
                        }
                        const char *name = yv_str(k);
                        cw_path_key(sub, sizeof(sub), path, name);
                        size_t i = 0; /* the first letter rules out most rows */
                        while (keys[i].name &&
                               (keys[i].name[0] != name[0] || strcmp(keys[i].name, name)))
                                i++;
                        if (!keys[i].name) {
                                unknown_key(c, k, sub, name, keys);
                                continue;
                        }
                        if (seen & (1u << i)) {
                                yv_error(&c->yv, k, sub, "duplicate key '%s'", name);
                                continue;
                        }
                        seen |= 1u << i;
                        if (keys[i].fn)
                                keys[i].fn(c, v, sub, obj);
                        else
                                read_value(c, v, sub, &keys[i], obj);
                }
        }
        for (size_t i = 0; keys[i].name; i++) {
                if (!keys[i].required || (seen & (1u << i)))
                        continue;
                if (map) {
                        yv_error(&c->yv, map, path, "missing required key '%s'", keys[i].name);
                } else {
                        int line, col; /* an empty section: point at its key */
                        pos_get(c->yv.pos, path, &line, &col);
                        diag_add(c->yv.diags, NR_SEV_ERROR, line, col, path,
                                 "missing required key '%s'", keys[i].name);
                }
        }
}

/* Walks a list of mappings: item i is PATH[i]. */
size_t cw_list(struct pctx *c, const struct yf_node *seq, const char *path, void *items,
                        size_t item_size, const struct keydef *keys)
{
        size_t n = cw_seq_len(c, seq, path);
        char sub[YV_PATH_MAX];
        for (size_t i = 0; i < n; i++) {
                const struct yf_node *it = cw_seq_item(c, seq, i);
                cw_path_index(sub, sizeof(sub), path, i);
                cw_map(c, it, sub, keys, (char *)items + i * item_size);
        }
        return n;
}

size_t cw_prefix_list(struct pctx *c, const struct yf_node *seq, const char *path,
                          struct nr_prefix **out)
{
        size_t n = cw_seq_len(c, seq, path);
        char sub[YV_PATH_MAX];
        *out = cw_calloc(n, sizeof(**out));
        for (size_t i = 0; i < n; i++) {
                const struct yf_node *it = cw_seq_item(c, seq, i);
                cw_path_index(sub, sizeof(sub), path, i);
                yv_subnet(&c->yv, it, sub, &(*out)[i]);
        }
        return n;
}

