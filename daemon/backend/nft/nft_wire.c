/* A delta's ops as one nf_tables batch: the messages nft itself sends for `add element`,
 * `delete element`, `add counter`, `delete counter` and `delete rule ... handle`, for the element
 * types a reload's usual change is made of (a forward: its elements and its named counter).
 * Anything else declines (-EOPNOTSUPP) before a byte is kept, and the caller hands the script to
 * libnftables. */
#include "backend/nft/nft_wire.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

/* ---------------------------------------------------------------- the message buffer */

struct nftw_buf {
        uint8_t *p;
        size_t len, cap;
        int err;
};

static void *nftw_room(struct nftw_buf *b, size_t n)
{
        size_t padded = NLMSG_ALIGN(n);
        if (b->err)
                return NULL;
        if (b->len + padded > b->cap) {
                size_t cap = b->cap ? b->cap : 1024;
                while (cap < b->len + padded)
                        cap *= 2;
                uint8_t *p = realloc(b->p, cap);
                if (!p) {
                        b->err = -ENOMEM;
                        return NULL;
                }
                b->p = p;
                b->cap = cap;
        }
        void *at = b->p + b->len;
        memset(at, 0, padded);
        b->len += padded;
        return at;
}

static size_t nftw_msg_begin(struct nftw_buf *b, uint16_t type, uint16_t flags, uint32_t seq,
                             uint8_t family, uint16_t res_id)
{
        size_t off = b->len;
        struct nlmsghdr *h = nftw_room(b, sizeof(*h));
        struct nfgenmsg *g = nftw_room(b, sizeof(*g));
        if (!h || !g)
                return off;
        h = (struct nlmsghdr *)(b->p + off); /* the buffer may have moved */
        h->nlmsg_type = type;
        h->nlmsg_flags = flags;
        h->nlmsg_seq = seq;
        g = (struct nfgenmsg *)(b->p + off + NLMSG_ALIGN(sizeof(*h)));
        g->nfgen_family = family;
        g->version = NFNETLINK_V0;
        g->res_id = htons(res_id);
        return off;
}

static void nftw_msg_end(struct nftw_buf *b, size_t off)
{
        if (!b->err)
                ((struct nlmsghdr *)(b->p + off))->nlmsg_len = (uint32_t)(b->len - off);
}

static void nftw_attr(struct nftw_buf *b, uint16_t type, const void *data, size_t n)
{
        size_t off = b->len;
        if (!nftw_room(b, NLA_HDRLEN + n))
                return;
        struct nlattr *a = (struct nlattr *)(b->p + off);
        a->nla_type = type;
        a->nla_len = (uint16_t)(NLA_HDRLEN + n);
        if (n)
                memcpy(b->p + off + NLA_HDRLEN, data, n);
}

static void nftw_str(struct nftw_buf *b, uint16_t type, const char *s)
{
        nftw_attr(b, type, s, strlen(s) + 1);
}

static void nftw_be32(struct nftw_buf *b, uint16_t type, uint32_t v)
{
        uint32_t be = htonl(v);
        nftw_attr(b, type, &be, sizeof(be));
}

static size_t nftw_nest(struct nftw_buf *b, uint16_t type)
{
        size_t off = b->len;
        nftw_attr(b, type | NLA_F_NESTED, NULL, 0);
        return off;
}

static void nftw_nest_end(struct nftw_buf *b, size_t off)
{
        if (!b->err)
                ((struct nlattr *)(b->p + off))->nla_len = (uint16_t)(b->len - off);
}

/* ---------------------------------------------------------------- element values */

#define NFTW_IFNAMSIZ 16 /* IFNAMSIZ: an interface name and its NUL */

enum nftw_type {
        NFTW_TYPE_PROTO,
        NFTW_TYPE_SERVICE,
        NFTW_TYPE_IPV4,
        NFTW_TYPE_ETHER,
        NFTW_TYPE_IFNAME,
};

static const struct {
        const char *name;
        size_t len;
} nftw_types[] = {
        [NFTW_TYPE_PROTO] = {"inet_proto", 1},  [NFTW_TYPE_SERVICE] = {"inet_service", 2},
        [NFTW_TYPE_IPV4] = {"ipv4_addr", 4},    [NFTW_TYPE_ETHER] = {"ether_addr", 6},
        [NFTW_TYPE_IFNAME] = {"ifname", NFTW_IFNAMSIZ},
};

#define NFTW_FIELDS 4
#define NFTW_VALUE 64 /* bytes of a key or a value: four fields of at most 16 */

/* One side of a set's type (`inet_proto . inet_service`): its fields. */
struct nftw_shape {
        enum nftw_type f[NFTW_FIELDS];
        size_t n;
};

/* The next " . "-separated word of [s, end): its span; *s moves past the separator. */
static bool nftw_word(const char **s, const char *end, const char **w, size_t *n)
{
        if (*s >= end)
                return false;
        const char *sep = memmem(*s, (size_t)(end - *s), " . ", 3);
        const char *stop = sep ? sep : end;
        *w = *s;
        *n = (size_t)(stop - *s);
        *s = sep ? sep + 3 : end;
        return *n > 0;
}

static int nftw_shape_of(const char *s, const char *end, struct nftw_shape *sh)
{
        const char *w;
        size_t n;
        sh->n = 0;
        while (nftw_word(&s, end, &w, &n)) {
                size_t k = 0;
                while (k < sizeof(nftw_types) / sizeof(nftw_types[0]) &&
                       !(strlen(nftw_types[k].name) == n && !memcmp(nftw_types[k].name, w, n)))
                        k++;
                if (k == sizeof(nftw_types) / sizeof(nftw_types[0]) || sh->n == NFTW_FIELDS)
                        return -EOPNOTSUPP;
                sh->f[sh->n++] = (enum nftw_type)k;
        }
        return sh->n && s == end ? 0 : -EOPNOTSUPP;
}

static bool nftw_number(const char *w, size_t n, unsigned max, unsigned *v)
{
        *v = 0;
        if (!n || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (w[i] < '0' || w[i] > '9')
                        return false;
                *v = *v * 10 + (unsigned)(w[i] - '0');
        }
        return *v <= max && (n == 1 || w[0] != '0');
}

static int nftw_hex(char c)
{
        return c >= '0' && c <= '9' ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
}

static bool nftw_proto(const char *w, size_t n, uint8_t *out)
{
        static const struct {
                const char *name;
                uint8_t num;
        } names[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"sctp", 132}};
        unsigned v;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strlen(names[i].name) == n && !memcmp(names[i].name, w, n)) {
                        *out = names[i].num;
                        return true;
                }
        if (!nftw_number(w, n, 255, &v))
                return false;
        *out = (uint8_t)v;
        return true;
}

/* One value as nft puts it on the wire (network order, a name NUL-padded): false when it is not
 * written the way this encoder knows (a prefix, a range, a wildcard, an escape). */
static bool nftw_value(enum nftw_type t, const char *w, size_t n, uint8_t *out)
{
        unsigned v;
        char ip[16];
        switch (t) {
        case NFTW_TYPE_PROTO:
                return nftw_proto(w, n, out);
        case NFTW_TYPE_SERVICE:
                if (!nftw_number(w, n, 65535, &v))
                        return false;
                out[0] = (uint8_t)(v >> 8);
                out[1] = (uint8_t)v;
                return true;
        case NFTW_TYPE_IPV4:
                if (n >= sizeof(ip))
                        return false;
                memcpy(ip, w, n);
                ip[n] = '\0';
                return inet_pton(AF_INET, ip, out) == 1;
        case NFTW_TYPE_ETHER:
                if (n != 17)
                        return false;
                for (size_t i = 0; i < 6; i++) {
                        int hi = nftw_hex(w[3 * i]), lo = nftw_hex(w[3 * i + 1]);
                        if (hi < 0 || lo < 0 || (i < 5 && w[3 * i + 2] != ':'))
                                return false;
                        out[i] = (uint8_t)(hi << 4 | lo);
                }
                return true;
        case NFTW_TYPE_IFNAME:
                if (n < 3 || n - 2 >= NFTW_IFNAMSIZ || w[0] != '"' || w[n - 1] != '"')
                        return false;
                for (size_t i = 1; i + 1 < n; i++)
                        if (w[i] == '"' || w[i] == '\\' || w[i] == '*' || w[i] == ' ')
                                return false;
                memcpy(out, w + 1, n - 2);
                return true;
        }
        return false;
}

/* The words of [s, end) as values of `sh`, laid out as nft lays out a key: one field as it is, a
 * concatenation with each field in its own 32-bit registers. Its length, or 0 when it does not
 * match. */
static size_t nftw_values(const struct nftw_shape *sh, const char *s, const char *end,
                          uint8_t out[NFTW_VALUE])
{
        size_t len = 0, n;
        const char *w;
        memset(out, 0, NFTW_VALUE);
        for (size_t i = 0; i < sh->n; i++) {
                size_t size = nftw_types[sh->f[i]].len;
                if (!nftw_word(&s, end, &w, &n) || !nftw_value(sh->f[i], w, n, out + len))
                        return 0;
                len += sh->n == 1 ? size : (size + 3) / 4 * 4;
        }
        return s == end ? len : 0;
}

/* A set's type: its key's and (a map's) value's shapes, or a map to named objects. */
struct nftw_set {
        struct nftw_shape key, data;
        bool map, objref;
};

static int nftw_set_of(const struct nftm_table *t, const char *name, struct nftw_set *ws)
{
        const struct nftm_set *s = nftm_find_set(t, name);
        if (!s || s->interval)
                return -EOPNOTSUPP;
        const char *type = nftm_str(t, s->type), *end = type + strlen(type);
        const char *colon = strstr(type, " : ");
        ws->map = s->map;
        ws->objref = colon && !strcmp(colon + 3, "counter");
        if (s->map != (colon != NULL) || s->objects)
                return -EOPNOTSUPP;
        int r = nftw_shape_of(type, colon ? colon : end, &ws->key);
        if (r >= 0 && colon && !ws->objref)
                r = nftw_shape_of(colon + 3, end, &ws->data);
        return r;
}

/* ---------------------------------------------------------------- messages */

static uint16_t nftw_type(enum nf_tables_msg_types m)
{
        return (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | m);
}

static void nftw_data(struct nftw_buf *b, uint16_t type, const uint8_t *v, size_t n)
{
        size_t nest = nftw_nest(b, type);
        nftw_attr(b, NFTA_DATA_VALUE, v, n);
        nftw_nest_end(b, nest);
}

#define NFTW_NAME 256 /* NFT_OBJ_MAXNAMELEN: an object's name and its NUL */

/* An object's name as an element names it (`"NAME"`, the quotes taken off) or as an op does (as
 * it is): false when it is empty, too long, or needs an escape. */
static bool nftw_name(const char *w, size_t n, bool quoted, char out[NFTW_NAME])
{
        if (quoted) {
                if (n < 3 || w[0] != '"' || w[n - 1] != '"')
                        return false;
                w++;
                n -= 2;
        }
        if (!n || n >= NFTW_NAME)
                return false;
        for (size_t i = 0; i < n; i++)
                if (w[i] == '"' || w[i] == '\\' || w[i] == ' ' || (unsigned char)w[i] < 0x20)
                        return false;
        memcpy(out, w, n);
        out[n] = '\0';
        return true;
}

/* One element inside NFTA_SET_ELEM_LIST_ELEMENTS: its key, and a map's value unless deleted
 * (a value, or the name of the object it refers to). */
static int nftw_elem(struct nftw_buf *b, const struct nftw_set *ws, const struct nftd_op *o)
{
        uint8_t key[NFTW_VALUE], data[NFTW_VALUE];
        char obj[NFTW_NAME];
        const char *s = o->text, *end = o->text + o->text_len;
        const char *colon = ws->map ? memmem(s, o->text_len, " : ", 3) : NULL;
        bool with_data = ws->map && o->kind == NFTD_ELEM_ADD;
        if (with_data != (colon != NULL))
                return -EOPNOTSUPP;
        size_t kl = nftw_values(&ws->key, s, colon ? colon : end, key);
        size_t dl = !colon ? 1
                    : ws->objref ? nftw_name(colon + 3, (size_t)(end - colon - 3), true, obj)
                                 : nftw_values(&ws->data, colon + 3, end, data);
        if (!kl || !dl)
                return -EOPNOTSUPP;
        size_t el = nftw_nest(b, NFTA_LIST_ELEM);
        nftw_data(b, NFTA_SET_ELEM_KEY, key, kl);
        if (colon && ws->objref)
                nftw_str(b, NFTA_SET_ELEM_OBJREF, obj);
        else if (colon)
                nftw_data(b, NFTA_SET_ELEM_DATA, data, dl);
        nftw_nest_end(b, el);
        return 0;
}

#define NFTW_RUN 256 /* elements per message: far below the 64 KiB an attribute can hold */

/* Elements ops[i..] of one kind and set (at most NFTW_RUN) in one message; how many. */
static int nftw_elems(struct nftw_buf *b, const struct nftd_ops *ops, size_t i,
                      const struct nftm_table *t, uint8_t family, uint32_t seq)
{
        const struct nftd_op *o = &ops->v[i];
        struct nftw_set ws;
        int r = nftw_set_of(t, o->where, &ws);
        if (r < 0)
                return r;
        bool add = o->kind == NFTD_ELEM_ADD;
        size_t m = nftw_msg_begin(b, nftw_type(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
                                  NLM_F_REQUEST | (add ? NLM_F_CREATE : 0), seq, family, 0);
        nftw_str(b, NFTA_SET_ELEM_LIST_TABLE, ops->table);
        nftw_str(b, NFTA_SET_ELEM_LIST_SET, o->where);
        size_t list = nftw_nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
        size_t n = 0;
        for (; i + n < ops->n && n < NFTW_RUN; n++) {
                const struct nftd_op *e = &ops->v[i + n];
                if (e->kind != o->kind || strcmp(e->where, o->where))
                        break;
                if ((r = nftw_elem(b, &ws, e)) < 0)
                        return r;
        }
        nftw_nest_end(b, list);
        nftw_msg_end(b, m);
        return (int)n;
}

/* A rule deleted by its handle (the one rule op nft_wire.c takes: the rules a reload adds
 * are anything, and libnftables knows how to write them). */
static int nftw_rule_delete(struct nftw_buf *b, const struct nftd_ops *ops,
                            const struct nftd_op *o, uint8_t family, uint32_t seq)
{
        size_t m = nftw_msg_begin(b, nftw_type(NFT_MSG_DELRULE), NLM_F_REQUEST, seq, family, 0);
        nftw_str(b, NFTA_RULE_TABLE, ops->table);
        nftw_str(b, NFTA_RULE_CHAIN, o->where);
        uint64_t h = htobe64(o->handle);
        nftw_attr(b, NFTA_RULE_HANDLE, &h, sizeof(h));
        nftw_msg_end(b, m);
        return 1;
}

/* A named counter added (with nothing counted yet, as nft sends it) or deleted. */
static int nftw_object(struct nftw_buf *b, const struct nftd_ops *ops, const struct nftd_op *o,
                       uint8_t family, uint32_t seq)
{
        char name[NFTW_NAME];
        bool add = o->kind == NFTD_OBJ_ADD;
        if (strcmp(o->where, "counter") || !nftw_name(o->text, o->text_len, false, name))
                return -EOPNOTSUPP;
        size_t m = nftw_msg_begin(b, nftw_type(add ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ),
                                  NLM_F_REQUEST | (add ? NLM_F_CREATE : 0), seq, family, 0);
        nftw_str(b, NFTA_OBJ_TABLE, ops->table);
        nftw_str(b, NFTA_OBJ_NAME, name);
        nftw_be32(b, NFTA_OBJ_TYPE, NFT_OBJECT_COUNTER);
        size_t data = nftw_nest(b, NFTA_OBJ_DATA);
        if (add) {
                uint64_t zero = 0;
                nftw_attr(b, NFTA_COUNTER_BYTES, &zero, sizeof(zero));
                nftw_attr(b, NFTA_COUNTER_PACKETS, &zero, sizeof(zero));
        }
        nftw_nest_end(b, data);
        nftw_msg_end(b, m);
        return 1;
}

static int nftw_family(const char *f, uint8_t *family)
{
        if (!strcmp(f, "inet"))
                *family = NFPROTO_INET;
        else if (!strcmp(f, "bridge"))
                *family = NFPROTO_BRIDGE;
        else
                return -EOPNOTSUPP;
        return 0;
}

/* How many ops from ops->v[i] on one message takes, or -EOPNOTSUPP. */
static int nftw_one(struct nftw_buf *b, const struct nftd_ops *ops, size_t i,
                    const struct nftm_table *t, uint8_t family, uint32_t seq)
{
        switch (ops->v[i].kind) {
        case NFTD_ELEM_DELETE:
        case NFTD_ELEM_ADD:
                return nftw_elems(b, ops, i, t, family, seq);
        case NFTD_RULE_DELETE:
                return nftw_rule_delete(b, ops, &ops->v[i], family, seq);
        case NFTD_OBJ_ADD:
        case NFTD_OBJ_DELETE:
                return nftw_object(b, ops, &ops->v[i], family, seq);
        case NFTD_RULE_APPEND:
        case NFTD_RULE_AFTER:
        case NFTD_RULE_BEFORE:
        case NFTD_RULE_REPLACE:
                return -EOPNOTSUPP; /* a rule added or replaced: libnftables knows these */
        }
        return -EOPNOTSUPP;
}

int nftw_batch(const struct nftd_ops *ops, const struct nftm_table *t, uint32_t seq, void **buf,
               size_t *len)
{
        struct nftw_buf b = {0};
        uint8_t family;
        int r = nftw_family(ops->family, &family);
        *buf = NULL;
        *len = 0;
        if (r < 0)
                return r;
        size_t m = nftw_msg_begin(&b, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq++, AF_UNSPEC,
                                  NFNL_SUBSYS_NFTABLES);
        nftw_msg_end(&b, m);
        for (size_t i = 0; i < ops->n && r >= 0; i += (size_t)r)
                r = nftw_one(&b, ops, i, t, family, seq++);
        if (r >= 0) {
                m = nftw_msg_begin(&b, NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq, AF_UNSPEC,
                                   NFNL_SUBSYS_NFTABLES);
                nftw_msg_end(&b, m);
                r = b.err;
        }
        if (r < 0) {
                free(b.p);
                return r;
        }
        *buf = b.p;
        *len = b.len;
        return 0;
}
