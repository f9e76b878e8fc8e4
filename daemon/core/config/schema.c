/* What the schema's rows do besides parsing (config_walk.c): defaults, the `--check -v`
 * printing of every key in table order, and the default's text for docs/config.md. */
#include "core/config/schema.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/ipaddr.h"
#include "core/lib/strbuf.h"

static unsigned long long get_uint(const void *p, size_t size)
{
        switch (size) {
        case 1:
                return *(const uint8_t *)p;
        case 2:
                return *(const uint16_t *)p;
        case 4:
                return *(const uint32_t *)p;
        }
        return *(const uint64_t *)p;
}

void cfg_field_set_uint(void *p, size_t size, unsigned long long v)
{
        switch (size) {
        case 1:
                *(uint8_t *)p = (uint8_t)v;
                return;
        case 2:
                *(uint16_t *)p = (uint16_t)v;
                return;
        case 4:
                *(uint32_t *)p = (uint32_t)v;
                return;
        }
        *(uint64_t *)p = v;
}

void cfg_schema_defaults(const struct keydef *keys, void *obj)
{
        for (const struct keydef *k = keys; k->name; k++) {
                char *f = (char *)obj + k->off;
                switch (k->kind) {
                case CFG_BOOL:
                        *(bool *)f = k->def != 0;
                        break;
                case CFG_UINT:
                case CFG_DURATION:
                case CFG_ENUM:
                case CFG_SIZE:
                        cfg_field_set_uint(f, k->size, (unsigned long long)k->def);
                        break;
                case CFG_STRING:
                case CFG_IFNAME:
                case CFG_HOSTNAME:
                case CFG_DOMAIN:
                        if (k->def_str && strlen(k->def_str) < k->size)
                                strcpy(f, k->def_str);
                        break;
                case CFG_MAP:
                        if (k->sub)
                                cfg_schema_defaults(k->sub, f);
                        break;
                case CFG_CUSTOM:
                case CFG_IPV4:
                case CFG_PREFIX:
                case CFG_IFADDR:
                case CFG_MAC:
                case CFG_TEXT:
                case CFG_PATH:
                case CFG_PREFIX_LIST:
                case CFG_LIST:
                        break; /* no default but zero, or one that depends on other keys */
                }
        }
}

void cfg_put_duration(struct nr_buf *b, unsigned long s)
{
        if (s == 0)
                buf_puts(b, "infinite");
        else if (s % 86400 == 0)
                buf_printf(b, "%lud", s / 86400);
        else if (s % 3600 == 0)
                buf_printf(b, "%luh", s / 3600);
        else if (s % 60 == 0)
                buf_printf(b, "%lum", s / 60);
        else
                buf_printf(b, "%lus", s);
}

void cfg_put_size(struct nr_buf *b, unsigned long long v)
{
        if (v % (1ull << 30) == 0)
                buf_printf(b, "%lluGiB", v >> 30);
        else
                buf_printf(b, "%lluMiB", v >> 20);
}

/* YAML double-quoted scalar: always safe, whatever the text holds. */
void cfg_put_quoted(struct nr_buf *b, const char *s)
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

void cfg_put_prefixes(struct nr_buf *b, const struct nr_prefix *p, size_t n)
{
        buf_puts(b, "[");
        for (size_t i = 0; i < n; i++)
                buf_printf(b, "%s%s", i ? ", " : "", prefix_s(p[i]).s);
        buf_puts(b, "]");
}

static bool is_zero(const struct keydef *k, const void *f, const void *obj)
{
        switch (k->kind) {
        case CFG_BOOL:
                return !*(const bool *)f;
        case CFG_UINT:
        case CFG_DURATION:
        case CFG_ENUM:
        case CFG_SIZE:
        case CFG_IPV4:
                return get_uint(f, k->size) == 0;
        case CFG_PREFIX:
        case CFG_IFADDR:
                return ((const struct nr_prefix *)f)->len == 0;
        case CFG_MAC:
                return !memcmp(f, "\0\0\0\0\0\0", 6);
        case CFG_IFNAME:
        case CFG_HOSTNAME:
        case CFG_DOMAIN:
        case CFG_STRING:
                return !*(const char *)f;
        case CFG_TEXT:
        case CFG_PATH:
                return !*(char *const *)f;
        case CFG_PREFIX_LIST:
        case CFG_LIST:
                return *(const size_t *)((const char *)obj + k->off_n) == 0;
        case CFG_MAP:
        case CFG_CUSTOM:
                break;
        }
        return false;
}

static void put_string(struct nr_buf *b, const struct keydef *k, const char *s)
{
        if (k->flags & CFG_F_QUOTE)
                cfg_put_quoted(b, s);
        else
                buf_puts(b, s);
}

/* The value of a scalar or list key, as YAML that reads back to it. */
static void put_value(struct nr_buf *b, const struct keydef *k, const void *f, const void *obj)
{
        switch (k->kind) {
        case CFG_BOOL:
                buf_puts(b, *(const bool *)f ? "true" : "false");
                break;
        case CFG_UINT:
                buf_printf(b, "%llu", get_uint(f, k->size));
                break;
        case CFG_DURATION:
                cfg_put_duration(b, (unsigned long)get_uint(f, k->size));
                break;
        case CFG_SIZE:
                cfg_put_size(b, get_uint(f, k->size));
                break;
        case CFG_IPV4:
                buf_puts(b, ip_s((uint32_t)get_uint(f, k->size)).s);
                break;
        case CFG_PREFIX:
        case CFG_IFADDR:
                buf_puts(b, prefix_s(*(const struct nr_prefix *)f).s);
                break;
        case CFG_MAC:
                buf_printf(b, "\"%s\"", mac_s(f).s);
                break;
        case CFG_ENUM:
                buf_puts(b, k->names[get_uint(f, k->size)]);
                break;
        case CFG_IFNAME:
        case CFG_HOSTNAME:
        case CFG_DOMAIN:
        case CFG_STRING:
                put_string(b, k, f);
                break;
        case CFG_TEXT:
        case CFG_PATH:
                cfg_put_quoted(b, *(char *const *)f);
                break;
        case CFG_PREFIX_LIST:
                cfg_put_prefixes(b, *(struct nr_prefix *const *)f,
                                 *(const size_t *)((const char *)obj + k->off_n));
                break;
        case CFG_LIST: /* a list of mappings has its .print */
        case CFG_MAP:
        case CFG_CUSTOM:
                break;
        }
}

/* `{k: v, k: v}`: one list item's keys on one line */
static void put_flow(struct nr_buf *b, const struct keydef *keys, const void *obj)
{
        bool first = true;
        buf_puts(b, "{");
        for (const struct keydef *k = keys; k->name; k++) {
                const char *f = (const char *)obj + k->off;
                if (!k->print && ((k->flags & CFG_F_OMIT_ZERO) && is_zero(k, f, obj)))
                        continue;
                buf_puts(b, first ? "" : ", ");
                first = false;
                if (k->print) {
                        k->print(b, k, obj, -1);
                } else {
                        buf_printf(b, "%s: ", k->name);
                        put_value(b, k, f, obj);
                }
        }
        buf_puts(b, "}");
}

/* A list of mappings: `key: []`, or each item as `- {...}` (CFG_F_FLOW) or as a block whose
 * first key follows the dash. */
static void put_list(struct nr_buf *b, const struct keydef *k, const void *obj, int indent)
{
        const char *items = *(const char *const *)((const char *)obj + k->off);
        size_t n = *(const size_t *)((const char *)obj + k->off_n);
        buf_printf(b, "%*s%s:%s\n", indent, "", k->name, n ? "" : " []");
        for (size_t i = 0; i < n; i++) {
                const void *item = items + i * k->item_size;
                if (k->flags & CFG_F_FLOW) {
                        buf_printf(b, "%*s- ", indent + 2, "");
                        put_flow(b, k->sub, item);
                        buf_puts(b, "\n");
                        continue;
                }
                struct nr_buf sub = {0};
                cfg_schema_print(&sub, k->sub, item, indent + 4);
                char *s = buf_finish(&sub);
                if (!s) {
                        b->oom = true;
                        return;
                }
                buf_printf(b, "%*s- %s", indent + 2, "", s + indent + 4);
                free(s);
        }
}

void cfg_schema_print(struct nr_buf *b, const struct keydef *keys, const void *obj, int indent)
{
        for (const struct keydef *k = keys; k->name; k++) {
                const char *f = (const char *)obj + k->off;
                if (k->print) {
                        k->print(b, k, obj, indent);
                        continue;
                }
                if (k->kind == CFG_CUSTOM)
                        continue;
                if (k->kind == CFG_LIST) {
                        put_list(b, k, obj, indent);
                        continue;
                }
                if (k->kind == CFG_MAP) {
                        if ((k->flags & CFG_F_PRESENT) && !*(const bool *)f)
                                continue;
                        buf_printf(b, "%*s%s:\n", indent, "", k->name);
                        cfg_schema_print(b, k->sub, f, indent + 2);
                        continue;
                }
                if ((k->flags & CFG_F_OMIT_ZERO) && is_zero(k, f, obj))
                        continue;
                buf_printf(b, "%*s%s: ", indent, "", k->name);
                put_value(b, k, f, obj);
                buf_puts(b, "\n");
        }
}

/* The default as the key would be written, for the docs. */
static void put_default(struct nr_buf *b, const struct keydef *k)
{
        switch (k->kind) {
        case CFG_BOOL:
                buf_puts(b, k->def ? "true" : "false");
                break;
        case CFG_UINT:
                buf_printf(b, "%lld", k->def);
                break;
        case CFG_DURATION:
                cfg_put_duration(b, (unsigned long)k->def);
                break;
        case CFG_SIZE:
                cfg_put_size(b, (unsigned long long)k->def);
                break;
        case CFG_ENUM:
                buf_puts(b, k->names[k->def]);
                break;
        case CFG_STRING:
        case CFG_IFNAME:
        case CFG_HOSTNAME:
        case CFG_DOMAIN:
                buf_puts(b, k->def_str ? k->def_str : "?");
                break;
        case CFG_PREFIX_LIST:
        case CFG_LIST:
                buf_puts(b, "[]");
                break;
        case CFG_CUSTOM:
        case CFG_IPV4:
        case CFG_PREFIX:
        case CFG_IFADDR:
        case CFG_MAC:
        case CFG_TEXT:
        case CFG_PATH:
        case CFG_MAP:
                buf_puts(b, "?"); /* such a key needs its doc_default */
                break;
        }
}

/* A map's default is its keys' (`ssh: true`, `ssh_from: []`, ...). */
static void put_map_default(struct nr_buf *b, const struct keydef *sub)
{
        for (const struct keydef *k = sub; k->name; k++) {
                buf_printf(b, "%s`%s: ", k == sub ? "" : ", ", k->name);
                if (k->doc_default) {
                        for (const char *s = k->doc_default; *s; s++)
                                if (*s != '`')
                                        buf_printf(b, "%c", *s);
                } else {
                        put_default(b, k);
                }
                buf_puts(b, "`");
        }
}

void cfg_schema_doc_default(struct nr_buf *b, const struct keydef *k)
{
        if (k->doc_default)
                buf_puts(b, k->doc_default);
        else if (k->required)
                buf_puts(b, "(none)");
        else if (k->kind == CFG_MAP && k->sub)
                put_map_default(b, k->sub);
        else {
                buf_puts(b, "`");
                put_default(b, k);
                buf_puts(b, "`");
        }
}
