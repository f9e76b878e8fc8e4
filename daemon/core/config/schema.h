/* The configuration's schema: one table of keys per section. A row names the key, its kind of
 * value, the field it fills (offsetof), whether it is required, its default and the text
 * docs/config.md shows for its type and default; the parser (config_walk.c), the defaults, the
 * `--check -v` printer and the docs check (tests/docs/test-config-keys.sh) all read the rows. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/config/yamlfast.h"

struct pctx;
struct nr_buf;
struct keydef;

typedef void (*key_fn)(struct pctx *c, const struct yf_node *val, const char *path, void *obj);
/* Per-key checks beyond the kind's: val is the value read (a long long for uint and duration,
 * a uint64_t for size, a struct nr_prefix for prefix, a uint32_t for ipv4, the text for string
 * and text); false after reporting the error. */
typedef bool (*key_check)(struct pctx *c, const struct yf_node *val, const char *path,
                          const void *v);
/* Prints the whole "key: value" entry (or nothing) at indent, with its newline, for a key the
 * kinds cannot; indent < 0: inside a flow mapping, only "key: value" (and always something). */
typedef void (*key_print)(struct nr_buf *b, const struct keydef *k, const void *obj, int indent);

enum cfg_kind {
        CFG_CUSTOM,      /* .fn reads it, .print prints it */
        CFG_BOOL,        /* bool */
        CFG_UINT,        /* unsigned integer of .size bytes, .min to .max, then .check */
        CFG_DURATION,    /* uint32_t seconds; outside .min to .max (max 0: none): .range_msg */
        CFG_SIZE,        /* uint64_t bytes, then .check */
        CFG_IPV4,        /* uint32_t host address */
        CFG_PREFIX,      /* struct nr_prefix, host bits clear */
        CFG_IFADDR,      /* struct nr_prefix, an interface's address */
        CFG_MAC,         /* uint8_t[6] */
        CFG_IFNAME,      /* char[16]; .def_str */
        CFG_HOSTNAME,    /* char[.size], a DHCP host name */
        CFG_DOMAIN,      /* char[.size], a DNS domain */
        CFG_ENUM,        /* an enum, one of .names (in the enum's order) */
        CFG_STRING,      /* char[.size]: .what, then .check (which also bounds the length) */
        CFG_TEXT,        /* char * (NULL: not given), printed quoted: .what, then .check */
        CFG_PATH,        /* char * (NULL: not given), an absolute path: .what */
        CFG_PREFIX_LIST, /* struct nr_prefix * with its count at .off_n */
        CFG_MAP,         /* a nested section whose keys are .sub, at .off */
        CFG_LIST,        /* a list of mappings whose keys are .sub: items of .item_size at
                          * .off (an array the parser allocates), their count at .off_n */
};

enum {
        CFG_F_OMIT_ZERO = 1 << 0, /* printed only when set (not zero, not empty) */
        CFG_F_QUOTE = 1 << 1,     /* printed as a quoted scalar */
        CFG_F_PRESENT = 1 << 2,   /* a map whose struct starts with `bool present`: set when the
                                   * key is given, printed only then */
        CFG_F_FLOW = 1 << 3,      /* a list of mappings printed one item a line, `- {k: v, ...}` */
};

struct keydef {
        const char *name;
        key_fn fn;               /* reads the value instead of the kind (CFG_CUSTOM, or a value
                                  * that needs more than its kind; the kind still gives its
                                  * default and prints it) */
        bool required;
        enum cfg_kind kind;
        unsigned flags;
        size_t off;              /* of the field in the section's struct */
        size_t size;             /* of the field: a uint's width, a string's capacity */
        size_t off_n;            /* a list's count */
        size_t item_size;        /* CFG_LIST: of one item */
        long long min, max;
        const char *range_msg;   /* a duration outside min..max */
        const char *what;        /* CFG_STRING: the value expected ("an Azure resource name") */
        key_check check;
        const char *const *names;/* CFG_ENUM: NULL-terminated */
        long long def;           /* the default of a bool, uint, duration or enum */
        const char *def_str;     /* the default of a string */
        const struct keydef *sub;/* CFG_MAP */
        key_print print;
        const char *doc_type;    /* docs/config.md's Type column */
        const char *doc_default; /* its Default column; NULL: the default value, in backquotes */
};

#define CFG_FIELD(st, f) .off = offsetof(st, f), .size = sizeof(((st *)0)->f)

/* The top-level table; each section's is reached through its CFG_MAP row. */
extern const struct keydef cfg_top_keys[];

/* Sets every key's default in the section at obj (and its nested maps). */
void cfg_schema_defaults(const struct keydef *keys, void *obj);
/* Prints the section's keys at obj in table order, as YAML, indent spaces deep. */
void cfg_schema_print(struct nr_buf *b, const struct keydef *keys, const void *obj, int indent);
/* docs/config.md's Default text of a key: doc_default, or its default value in backquotes. */
void cfg_schema_doc_default(struct nr_buf *b, const struct keydef *k);

void cfg_field_set_uint(void *field, size_t size, unsigned long long v);

/* Value formats shared by the printer and the custom printers. */
void cfg_put_duration(struct nr_buf *b, unsigned long s);
void cfg_put_size(struct nr_buf *b, unsigned long long v);
void cfg_put_quoted(struct nr_buf *b, const char *s);
struct nr_prefix;
void cfg_put_prefixes(struct nr_buf *b, const struct nr_prefix *p, size_t n);
