/* IPv4 addresses, prefixes and MACs: strict parsing, formatting and set arithmetic.
 * Addresses are host byte order uint32_t throughout the core. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct nr_prefix {
        uint32_t addr;
        uint8_t len;
};

/* Formatted values returned by value, so `ip_s(a).s` is valid for the whole expression. */
struct nr_ipstr {
        char s[20];
};
struct nr_macstr {
        char s[18];
};

int ip_parse(const char *s, uint32_t *out);                 /* dotted quad, no leading zeros */
int prefix_parse(const char *s, struct nr_prefix *out);     /* a.b.c.d/len (len required) */
int mac_parse(const char *s, uint8_t mac[6]);               /* aa:bb:cc:dd:ee:ff or aa-bb-... */

struct nr_ipstr ip_s(uint32_t a);
struct nr_ipstr prefix_s(struct nr_prefix p);
struct nr_macstr mac_s(const uint8_t mac[6]);

/* Parsers leave this length in a prefix they could not read, so later checks skip it instead of
 * reporting consequences of a mistake already reported. */
#define NR_PREFIX_INVALID 0xff
static inline bool prefix_valid(struct nr_prefix p)
{
        return p.len <= 32;
}

uint32_t prefix_mask(uint8_t len);
uint32_t prefix_network(struct nr_prefix p);
uint32_t prefix_broadcast(struct nr_prefix p);
bool prefix_has_host_bits(struct nr_prefix p);
bool prefix_contains(struct nr_prefix p, uint32_t a);
bool prefix_overlaps(struct nr_prefix a, struct nr_prefix b);
bool prefix_covers(struct nr_prefix outer, struct nr_prefix inner); /* inner ⊆ outer */
/* First and last usable host (for /31 and /32 the whole prefix). */
uint32_t prefix_first_host(struct nr_prefix p);
uint32_t prefix_last_host(struct nr_prefix p);
