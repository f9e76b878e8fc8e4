/* Typed reads of YAML nodes for the config parser: each reads one value, and on a mistake adds a
 * diagnostic at the node's line:column naming the key path, then returns false. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/config/diag.h"
#include "core/config/yamlfast.h"
#include "core/lib/ipaddr.h"

#define YV_PATH_MAX 256

struct yv_ctx {
        struct nr_diags *diags;
        struct nr_posmap *pos;
};

void yv_error(struct yv_ctx *c, const struct yf_node *n, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void yv_warn(struct yv_ctx *c, const struct yf_node *n, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

bool yv_is_null(const struct yf_node *n);
const char *yv_kind(const struct yf_node *n);   /* "a mapping", "a list", "a single value", ... */
bool yv_want_scalar(struct yv_ctx *c, const struct yf_node *n, const char *path, const char *what);
const char *yv_str(const struct yf_node *n);    /* scalar value; only after yv_want_scalar */

bool yv_bool(struct yv_ctx *c, const struct yf_node *n, const char *path, bool *out);
bool yv_int(struct yv_ctx *c, const struct yf_node *n, const char *path, long long min,
            long long max, long long *out);
bool yv_ip(struct yv_ctx *c, const struct yf_node *n, const char *path, uint32_t *out);
/* A network prefix: host bits must be clear (`subnets with host bits set` are errors). */
bool yv_subnet(struct yv_ctx *c, const struct yf_node *n, const char *path, struct nr_prefix *out);
/* An interface address: a.b.c.d/len that must not be the network or broadcast address. */
bool yv_ifaddr(struct yv_ctx *c, const struct yf_node *n, const char *path, struct nr_prefix *out);
bool yv_mac(struct yv_ctx *c, const struct yf_node *n, const char *path, uint8_t mac[6]);
bool yv_ifname(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out);
/* A host/VM name: a DHCP host name (RFC 1123 label, not all digits, not a lease time). */
bool yv_name(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out, size_t size);
bool yv_domain(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out, size_t size);
/* A CPU model name as libvirt/QEMU know them (letters, digits, '-', '_', '.'). */
bool yv_cpu_model(struct yv_ctx *c, const struct yf_node *n, const char *path, char *out,
                  size_t size);
/* "12h", "30m", "90s", "1d", "1h30m", a plain number of seconds, or "infinite" (-> 0). */
bool yv_duration(struct yv_ctx *c, const struct yf_node *n, const char *path, uint32_t *out);
/* "2GiB", "512MiB", "1G" (binary units, as libvirt and QEMU read them). */
bool yv_size(struct yv_ctx *c, const struct yf_node *n, const char *path, uint64_t *out);

/* Levenshtein-based "did you mean" among candidates; NULL when nothing is close. */
const char *yv_suggest(const char *word, const char *const *candidates, size_t n);

int yv_parse_duration(const char *s, uint32_t *out);
int yv_parse_size(const char *s, uint64_t *out);
