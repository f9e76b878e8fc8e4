/* nft_wire: a delta's ops as one nf_tables batch, byte for byte. The expected messages are what
 * nft 1.0.6 itself sends for the same commands (`nft --debug=mnl -f`), less the one attribute it
 * adds to element messages, NFTA_SET_ELEM_LIST_SET_ID, which names a set created in the same
 * batch and is not needed for an existing one. Then the framing (begin, end, sequence numbers,
 * flags), runs of elements split across messages, and every op the encoder must decline so that
 * libnftables takes the script. tests/netns/test-nftdiff-kernel.sh sends such batches to a
 * kernel and compares the table with nft's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "backend/nft/nft_wire.h"

static struct {
        struct nftm_table *t;
        void *batch;
        size_t len;
} S;

static int teardown(void **state)
{
        (void)state;
        nftm_unref(S.t);
        free(S.batch);
        memset(&S, 0, sizeof(S));
        return 0;
}

#define TEST(f) cmocka_unit_test_teardown(f, teardown)

static struct nftm_table *inet_table(void)
{
        struct nftm_table *t = nftm_new("inet", "t", "");
        nftm_set(t, true, "pf_dnat", "inet_proto . inet_service : ipv4_addr . inet_service", false,
                 "");
        nftm_set(t, false, "pf_open", "inet_proto . inet_service", false, "");
        nftm_set(t, false, "pf_from", "ipv4_addr . inet_proto . inet_service", true, "");
        nftm_set(t, false, "v6", "ipv6_addr", false, "");
        nftm_objects(t, "pf_counters", "counter");
        nftm_set(t, true, "pf_tcp", "inet_service : counter", false, "");
        nftm_chain(t, "pf_count", NULL);
        assert_int_equal(nftm_finish(t), 0);
        return t;
}

static struct nftm_table *bridge_table(void)
{
        struct nftm_table *t = nftm_new("bridge", "t", "");
        nftm_set(t, false, "ports", "ifname", false, "");
        nftm_set(t, false, "bound", "ether_addr . ipv4_addr", false, "");
        nftm_set(t, false, "bound_macs", "ether_addr", false, "");
        assert_int_equal(nftm_finish(t), 0);
        return t;
}

static struct nftd_op elem(enum nftd_op_kind kind, const char *set, const char *text,
                           size_t len)
{
        return (struct nftd_op){kind, set, text, len ? len : strlen(text), NULL, 0};
}

static struct nftd_op rule(enum nftd_op_kind kind, const char *chain, const char *text,
                           const char *id, uint64_t handle)
{
        return (struct nftd_op){kind, chain, text, text ? strlen(text) : 0, id, handle};
}

/* The batch's messages, in order. */
static size_t messages(const struct nlmsghdr **out, size_t max)
{
        size_t n = 0, off = 0;
        while (off < S.len) {
                const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)S.batch + off);
                assert_true(h->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nfgenmsg));
                assert_true(off + h->nlmsg_len <= S.len);
                assert_true(n < max);
                out[n++] = h;
                off += NLMSG_ALIGN(h->nlmsg_len);
        }
        assert_int_equal(off, S.len);
        return n;
}

static const struct nfgenmsg *genmsg(const struct nlmsghdr *h)
{
        return (const struct nfgenmsg *)((const char *)h + NLMSG_HDRLEN);
}

/* The attributes after the nfgenmsg header, as hex, against what nft sends. */
static void assert_payload(const struct nlmsghdr *h, const char *want_hex)
{
        const unsigned char *p = (const unsigned char *)h + NLMSG_HDRLEN + sizeof(struct nfgenmsg);
        size_t n = h->nlmsg_len - NLMSG_HDRLEN - sizeof(struct nfgenmsg);
        char *got = malloc(2 * n + 1);
        assert_non_null(got);
        for (size_t i = 0; i < n; i++)
                sprintf(got + 2 * i, "%02x", p[i]);
        if (strcmp(got, want_hex))
                fprintf(stderr, "got  %s\nwant %s\n", got, want_hex);
        bool same = !strcmp(got, want_hex);
        free(got);
        assert_true(same);
}

static void assert_msg(const struct nlmsghdr *h, uint16_t type, uint16_t flags, uint32_t seq,
                       uint8_t family)
{
        assert_int_equal(h->nlmsg_type, type);
        assert_int_equal(h->nlmsg_flags, flags);
        assert_int_equal(h->nlmsg_seq, seq);
        assert_int_equal(h->nlmsg_pid, 0);
        assert_int_equal(genmsg(h)->nfgen_family, family);
        assert_int_equal(genmsg(h)->version, NFNETLINK_V0);
}

static void assert_frame(const struct nlmsghdr *h, uint16_t type, uint32_t seq)
{
        assert_msg(h, type, NLM_F_REQUEST, seq, AF_UNSPEC);
        assert_int_equal(genmsg(h)->res_id, htons(NFNL_SUBSYS_NFTABLES));
        assert_int_equal(h->nlmsg_len, NLMSG_HDRLEN + sizeof(struct nfgenmsg));
}

#define NFT(m) ((uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | (m)))

/* add element inet t pf_dnat { tcp . 40019 : 10.0.2.10 . 8080 } */
static const char DNAT_ADD[] =
        "06000100740000000c00020070665f646e6174002800038024000180100001800c000100060000009c5300"
        "00100002800c0001000a00020a1f900000";
/* add counter inet t fwd-pf-tcp-99 */
static const char OBJ_ADD[] =
        "0600010074000000120002006677642d70662d7463702d393900000008000300000000011c0004800c0001"
        "0000000000000000000c0002000000000000000000";
/* add element inet t pf_tcp { 99 : "fwd-pf-tcp-99" } */
static const char REF_ADD[] =
        "06000100740000000b00020070665f746370000028000380240001800c000180060001000063000012000900"
        "6677642d70662d7463702d3939000000";
/* delete element inet t pf_tcp { 99 } */
static const char REF_DEL[] =
        "06000100740000000b00020070665f746370000014000380100001800c0001800600010000630000";
/* delete counter inet t fwd-pf-tcp-99 */
static const char OBJ_DEL[] =
        "0600010074000000120002006677642d70662d7463702d3939000000080003000000000104000480";
/* delete element inet t pf_dnat { tcp . 40019 } */
static const char DNAT_DEL[] =
        "06000100740000000c00020070665f646e6174001800038014000180100001800c000100060000009c5300"
        "00";
/* delete rule inet t pf_count handle 5 */
static const char RULE_DEL[] =
        "06000100740000000d00020070665f636f756e74000000000c0003000000000000000005";
/* add element bridge t ports { "tap-x1" } */
static const char PORTS_ADD[] =
        "06000100740000000a000200706f727473000000200003801c00018018000180140001007461702d783100"
        "000000000000000000";
/* add element bridge t bound { 52:54:00:12:34:56 . 10.0.2.10 } */
static const char BOUND_ADD[] =
        "06000100740000000a000200626f756e640000001c00038018000180140001801000010052540012345600"
        "000a00020a";
/* add element bridge t bound_macs { 52:54:00:12:34:56 } */
static const char MACS_ADD[] =
        "06000100740000000f000200626f756e645f6d61637300001800038014000180100001800a000100525400"
        "1234560000";

static struct nftd_op obj(enum nftd_op_kind kind, const char *type, const char *name)
{
        return (struct nftd_op){kind, type, name, strlen(name), NULL, 0};
}

static void wire_inet(void **state)
{
        (void)state;
        const char *dnat = "tcp . 40019 : 10.0.2.10 . 8080";
        struct nftd_op v[] = {
                obj(NFTD_OBJ_ADD, "counter", "fwd-pf-tcp-99"),
                elem(NFTD_ELEM_ADD, "pf_dnat", dnat, 0),
                elem(NFTD_ELEM_ADD, "pf_tcp", "99 : \"fwd-pf-tcp-99\"", 0),
                elem(NFTD_ELEM_DELETE, "pf_dnat", dnat, strlen("tcp . 40019")), /* a map's key */
                elem(NFTD_ELEM_DELETE, "pf_tcp", "99", 0),
                rule(NFTD_RULE_DELETE, "pf_count", NULL, NULL, 5),
                obj(NFTD_OBJ_DELETE, "counter", "fwd-pf-tcp-99"),
        };
        struct nftd_ops ops = {"inet", "t", v, 7};
        const struct nlmsghdr *m[10];
        S.t = inet_table();
        assert_int_equal(nftw_batch(&ops, S.t, 7, &S.batch, &S.len), 0);
        assert_int_equal(messages(m, 10), 9);
        assert_frame(m[0], NFNL_MSG_BATCH_BEGIN, 7);
        assert_msg(m[1], NFT(NFT_MSG_NEWOBJ), NLM_F_REQUEST | NLM_F_CREATE, 8, NFPROTO_INET);
        assert_payload(m[1], OBJ_ADD);
        assert_msg(m[2], NFT(NFT_MSG_NEWSETELEM), NLM_F_REQUEST | NLM_F_CREATE, 9, NFPROTO_INET);
        assert_payload(m[2], DNAT_ADD);
        assert_msg(m[3], NFT(NFT_MSG_NEWSETELEM), NLM_F_REQUEST | NLM_F_CREATE, 10, NFPROTO_INET);
        assert_payload(m[3], REF_ADD);
        assert_msg(m[4], NFT(NFT_MSG_DELSETELEM), NLM_F_REQUEST, 11, NFPROTO_INET);
        assert_payload(m[4], DNAT_DEL);
        assert_msg(m[5], NFT(NFT_MSG_DELSETELEM), NLM_F_REQUEST, 12, NFPROTO_INET);
        assert_payload(m[5], REF_DEL);
        assert_msg(m[6], NFT(NFT_MSG_DELRULE), NLM_F_REQUEST, 13, NFPROTO_INET);
        assert_payload(m[6], RULE_DEL);
        assert_msg(m[7], NFT(NFT_MSG_DELOBJ), NLM_F_REQUEST, 14, NFPROTO_INET);
        assert_payload(m[7], OBJ_DEL);
        assert_frame(m[8], NFNL_MSG_BATCH_END, 15);
}

static void wire_bridge(void **state)
{
        (void)state;
        struct nftd_op v[] = {
                elem(NFTD_ELEM_ADD, "ports", "\"tap-x1\"", 0),
                elem(NFTD_ELEM_ADD, "bound", "52:54:00:12:34:56 . 10.0.2.10", 0),
                elem(NFTD_ELEM_ADD, "bound_macs", "52:54:00:12:34:56", 0),
        };
        struct nftd_ops ops = {"bridge", "t", v, 3};
        const struct nlmsghdr *m[8];
        S.t = bridge_table();
        assert_int_equal(nftw_batch(&ops, S.t, 1, &S.batch, &S.len), 0);
        assert_int_equal(messages(m, 8), 5);
        for (size_t i = 1; i < 4; i++)
                assert_msg(m[i], NFT(NFT_MSG_NEWSETELEM), NLM_F_REQUEST | NLM_F_CREATE,
                           (uint32_t)i + 1, NFPROTO_BRIDGE);
        assert_payload(m[1], PORTS_ADD);
        assert_payload(m[2], BOUND_ADD);
        assert_payload(m[3], MACS_ADD);
}

/* Consecutive elements of one set and verb share a message, up to 256 of them; a set or verb
 * changing starts the next. */
static void wire_runs(void **state)
{
        (void)state;
        static char text[600][24];
        static struct nftd_op v[602];
        size_t n = 0;
        for (int i = 0; i < 600; i++) {
                snprintf(text[i], sizeof(text[i]), "tcp . %d", 1000 + i);
                v[n++] = elem(NFTD_ELEM_ADD, "pf_open", text[i], 0);
        }
        v[n++] = elem(NFTD_ELEM_DELETE, "pf_open", "udp . 7", 0);
        v[n++] = elem(NFTD_ELEM_DELETE, "pf_dnat", "udp . 7", 0);
        struct nftd_ops ops = {"inet", "t", v, n};
        const struct nlmsghdr *m[16];
        S.t = inet_table();
        assert_int_equal(nftw_batch(&ops, S.t, 1, &S.batch, &S.len), 0);
        assert_int_equal(messages(m, 16), 7); /* begin, 256 + 256 + 88, one, one, end */
        size_t want[] = {256, 256, 88, 1, 1};
        for (size_t i = 0; i < 5; i++) {
                /* table, set, then the elements' nest: count its LIST_ELEMs */
                const unsigned char *p = (const unsigned char *)m[i + 1] + NLMSG_HDRLEN + 4;
                size_t off = 0, end = m[i + 1]->nlmsg_len - NLMSG_HDRLEN - 4, elems = 0;
                while (off < end) {
                        const struct nlattr *a = (const struct nlattr *)(p + off);
                        if ((a->nla_type & NLA_TYPE_MASK) == NFTA_SET_ELEM_LIST_ELEMENTS)
                                for (size_t e = NLA_HDRLEN; e < a->nla_len;
                                     e += NLA_ALIGN(((const struct nlattr *)(p + off + e))->nla_len))
                                        elems++;
                        off += NLA_ALIGN(a->nla_len);
                }
                assert_int_equal(elems, want[i]);
        }
        assert_int_equal(m[4]->nlmsg_type, NFT(NFT_MSG_DELSETELEM));
        assert_int_equal(m[5]->nlmsg_type, NFT(NFT_MSG_DELSETELEM));
}

/* Whatever the encoder does not know exactly goes to libnftables: -EOPNOTSUPP, nothing kept. */
static void wire_declines(void **state)
{
        (void)state;
        const char *pf = "meta l4proto tcp counter name ct original proto-dst map @pf_tcp";
        struct {
                const char *family;
                struct nftd_op op;
        } cases[] = {
                {"inet", elem(NFTD_ELEM_ADD, "pf_from", "10.0.3.0/24 . tcp . 3390", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_from", "10.0.3.1 . tcp . 3390", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "v6", "fd00::1", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "nosuch", "tcp . 80", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "tcp . 80 comment \"x\"", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "tcp . 65536", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "tcp . 08", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "tcp . 80-90", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "tcp", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "tcp . 80 . 1", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_open", "gre . 80", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_dnat", "tcp . 80", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_dnat", "tcp . 80 : 10.0.2.300 . 80", 0)},
                {"inet", elem(NFTD_ELEM_DELETE, "pf_dnat", "tcp . 80 : 10.0.2.3 . 80", 0)},
                {"inet", rule(NFTD_RULE_AFTER, "pf_count", pf, "x", 3)},
                {"inet", rule(NFTD_RULE_BEFORE, "pf_count", pf, "x", 3)},
                {"inet", rule(NFTD_RULE_REPLACE, "pf_count", pf, "x", 3)},
                {"inet", rule(NFTD_RULE_APPEND, "pf_count", pf, "x", 0)},
                {"inet", obj(NFTD_OBJ_ADD, "quota", "q1")},
                {"inet", obj(NFTD_OBJ_ADD, "counter", "a\"b")},
                {"inet", obj(NFTD_OBJ_ADD, "counter", "")},
                {"inet", obj(NFTD_OBJ_DELETE, "counter", "a b")},
                {"inet", elem(NFTD_ELEM_ADD, "pf_tcp", "99 : fwd-pf-tcp-99", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_tcp", "99 : \"\"", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_tcp", "99", 0)},
                {"inet", elem(NFTD_ELEM_ADD, "pf_counters", "fwd-pf-tcp-99", 0)},
                {"bridge", elem(NFTD_ELEM_ADD, "ports", "\"tap*\"", 0)},
                {"bridge", elem(NFTD_ELEM_ADD, "ports", "tap0", 0)},
                {"bridge", elem(NFTD_ELEM_ADD, "ports", "\"a-name-of-16-chr\"", 0)},
                {"bridge", elem(NFTD_ELEM_ADD, "bound_macs", "52:54:00:12:34", 0)},
                {"bridge", elem(NFTD_ELEM_ADD, "bound_macs", "52:54:00:12:34:5g", 0)},
                {"ip", elem(NFTD_ELEM_ADD, "pf_open", "tcp . 80", 0)},
        };
        struct nftm_table *inet = inet_table(), *br = bridge_table();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                /* a good op first: a decline later in the batch still declines all of it */
                struct nftd_op v[2] = {elem(NFTD_ELEM_ADD, "pf_open", "tcp . 80", 0), cases[i].op};
                bool br_case = !strcmp(cases[i].family, "bridge");
                struct nftd_ops ops = {cases[i].family, "t", br_case ? v + 1 : v, br_case ? 1 : 2};
                void *batch = (void *)1;
                size_t len = 1;
                int r = nftw_batch(&ops, br_case ? br : inet, 1, &batch, &len);
                if (r != -EOPNOTSUPP)
                        fprintf(stderr, "case %zu: %d\n", i, r);
                assert_int_equal(r, -EOPNOTSUPP);
                assert_null(batch);
                assert_int_equal(len, 0);
        }
        /* the shapes it knows, for contrast: the same table, the same calls */
        struct nftd_op ok[] = {elem(NFTD_ELEM_ADD, "pf_open", "udp . 0", 0),
                               elem(NFTD_ELEM_ADD, "pf_open", "132 . 65535", 0)};
        struct nftd_ops ops = {"inet", "t", ok, 2};
        assert_int_equal(nftw_batch(&ops, inet, 1, &S.batch, &S.len), 0);
        nftm_unref(inet);
        nftm_unref(br);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(wire_inet),
                TEST(wire_bridge),
                TEST(wire_runs),
                TEST(wire_declines),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
