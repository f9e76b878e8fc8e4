/* IPv4/MAC parsing and prefix arithmetic. Strict on purpose: "10.0.2.01", "10.0.2.1/" and
 * "52:54:0:0:0:1" are rejected rather than guessed at. */
#include "core/lib/ipaddr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/lib/hex.h"

static int parse_dec(const char **p, unsigned max, unsigned *out)
{
        const char *s = *p;
        unsigned v = 0;
        int n = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
                return -EINVAL; /* no leading zeros: 010 is octal to inet_aton */
        while (*s >= '0' && *s <= '9') {
                v = v * 10 + (unsigned)(*s - '0');
                if (v > max || ++n > 10)
                        return -ERANGE;
                s++;
        }
        *p = s;
        *out = v;
        return 0;
}

static int ip_parse_prefix(const char **p, uint32_t *out)
{
        uint32_t a = 0;
        for (int i = 0; i < 4; i++) {
                unsigned o;
                int r = parse_dec(p, 255, &o);
                if (r < 0)
                        return r;
                a = a << 8 | o;
                if (i < 3) {
                        if (**p != '.')
                                return -EINVAL;
                        (*p)++;
                }
        }
        *out = a;
        return 0;
}

int ip_parse(const char *s, uint32_t *out)
{
        int r = ip_parse_prefix(&s, out);
        if (r < 0)
                return r;
        return *s ? -EINVAL : 0;
}

int prefix_parse(const char *s, struct nr_prefix *out)
{
        unsigned len;
        int r = ip_parse_prefix(&s, &out->addr);
        if (r < 0)
                return r;
        if (*s++ != '/')
                return -EINVAL;
        r = parse_dec(&s, 32, &len);
        if (r < 0)
                return r;
        if (*s)
                return -EINVAL;
        out->len = (uint8_t)len;
        return 0;
}

int mac_parse(const char *s, uint8_t mac[6])
{
        if (strlen(s) != 17)
                return -EINVAL;
        char sep = s[2];
        if (sep != ':' && sep != '-')
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                if (i < 5 && s[i * 3 + 2] != sep)
                        return -EINVAL;
                mac[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
}

/* Decimal of v (0..255) at p; returns the end. The formatters below run for every element
 * of a large table on each pass, where snprintf's format parsing was a tenth of the model. */
static char *dec(char *p, unsigned v)
{
        if (v >= 100)
                *p++ = (char)('0' + v / 100);
        if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        return p;
}

static char *ip_put(char *p, uint32_t a)
{
        for (int sh = 24; sh >= 0; sh -= 8) {
                p = dec(p, (a >> sh) & 255);
                *p++ = sh ? '.' : '\0';
        }
        return p - 1;
}

struct nr_ipstr ip_s(uint32_t a)
{
        struct nr_ipstr r;
        ip_put(r.s, a);
        return r;
}

struct nr_ipstr prefix_s(struct nr_prefix p)
{
        struct nr_ipstr r;
        char *e = ip_put(r.s, p.addr);
        *e++ = '/';
        *dec(e, p.len) = '\0';
        return r;
}

struct nr_macstr mac_s(const uint8_t m[6])
{
        static const char hex[] = "0123456789abcdef";
        struct nr_macstr r;
        for (int i = 0; i < 6; i++) {
                r.s[i * 3] = hex[m[i] >> 4];
                r.s[i * 3 + 1] = hex[m[i] & 15];
                r.s[i * 3 + 2] = i < 5 ? ':' : '\0';
        }
        return r;
}

uint32_t prefix_mask(uint8_t len)
{
        return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
}

uint32_t prefix_network(struct nr_prefix p)
{
        return p.addr & prefix_mask(p.len);
}

uint32_t prefix_broadcast(struct nr_prefix p)
{
        return p.addr | ~prefix_mask(p.len);
}

bool prefix_has_host_bits(struct nr_prefix p)
{
        return (p.addr & ~prefix_mask(p.len)) != 0;
}

bool prefix_contains(struct nr_prefix p, uint32_t a)
{
        return (a & prefix_mask(p.len)) == prefix_network(p);
}

bool prefix_overlaps(struct nr_prefix a, struct nr_prefix b)
{
        uint8_t len = a.len < b.len ? a.len : b.len;
        return ((a.addr ^ b.addr) & prefix_mask(len)) == 0;
}

bool prefix_covers(struct nr_prefix outer, struct nr_prefix inner)
{
        return outer.len <= inner.len && prefix_contains(outer, inner.addr);
}

uint32_t prefix_first_host(struct nr_prefix p)
{
        return p.len >= 31 ? prefix_network(p) : prefix_network(p) + 1;
}

uint32_t prefix_last_host(struct nr_prefix p)
{
        return p.len >= 31 ? prefix_broadcast(p) : prefix_broadcast(p) - 1;
}
