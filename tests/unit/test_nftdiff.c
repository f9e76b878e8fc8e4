/* nftdiff: reading live listings (handles, counters), and the exact delta script between two
 * tables for every kind of change — elements, single rules placed after, before or instead of
 * old ones — and every case that must fall back to recreating the table. Tables are written as
 * text literals shaped like nftm_text() output and read into the model by the tests' own reader
 * (nft_read.h); listings are `nft -a list table` output. tests/netns/test-nftdiff-kernel.sh runs
 * the same against a kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/nftdiff.h"
#include "nft_read.h"

/* One per test; the teardown frees it, also after a failed assertion, so ASan stays quiet. */
static struct {
        struct nftm_table *o, *n;
        struct nftd_handles h;
        struct nftd_counters c;
        char *script;
        bool full;
} S;

static int teardown(void **state)
{
        (void)state;
        nftm_unref(S.o);
        nftm_unref(S.n);
        nftd_handles_free(&S.h);
        nftd_counters_free(&S.c);
        free(S.script);
        memset(&S, 0, sizeof(S));
        return 0;
}

#define TEST(f) cmocka_unit_test_teardown(f, teardown)

/* ---- texts ---- */

#define TBL(body) "# rendered for eth0\ntable inet nr {\n\tcomment \"managed\"\n" body "}\n"
#define ALLOW(elems)                                                                            \
        "\n\tset allow {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tcomment \"sources\"\n"   \
        elems "\t}\n"
#define FWD(elems)                                                                              \
        "\n\tmap fwd {\n\t\ttype inet_proto . inet_service : ipv4_addr . inet_service\n"       \
        elems "\t}\n"
#define INPUT(rules)                                                                            \
        "\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"        \
        rules "\t}\n"
#define OUTPUT(rules)                                                                           \
        "\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n"    \
        rules "\t}\n"

#define RA "\t\tiif \"lo\" accept comment \"a\"\n"
#define RB "\t\tct state invalid drop comment \"b\"\n"
#define RC "\t\ttcp dport 22 accept comment \"c\"\n"
#define RD "\t\tcounter comment \"d\"\n"
#define RX "\t\tudp dport 53 accept comment \"x\"\n"
#define RY "\t\tudp dport 67 accept comment \"y\"\n"
#define RN "\t\tcounter\n" /* no id */
#define RO "\t\tudp dport 123 accept comment \"o\"\n"

#define ALLOW2 ALLOW("\t\telements = { 10.0.3.0/24,\n\t\t\t     172.16.0.0/22 }\n")
#define FWD2                                                                                    \
        FWD("\t\telements = { tcp . 3390 : 10.0.2.10 . 3389,\n"                                \
            "\t\t\t     udp . 5000 : 10.0.2.11 . 5000 }\n")

#define BASE TBL(ALLOW2 FWD2 INPUT("\t\t# comments are no rules\n" RA RB RC RD))

/* What `nft -a list table` shows for the old tables below: normalized texts, `# handle N`. */
static const char LIST[] =
        "table inet nr { # handle 3\n"
        "\tcomment \"managed\"\n"
        "\tset allow { # handle 2\n"
        "\t\ttype ipv4_addr\n"
        "\t\tflags interval\n"
        "\t\telements = { 10.0.3.0/24 comment \"not a rule\", 172.16.0.0/22 }\n"
        "\t}\n"
        "\n"
        "\tchain input { # handle 1\n"
        "\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\tiif \"lo\" counter packets 5 bytes 300 accept comment \"a\" # handle 10\n"
        "\t\tct state invalid counter packets 0 bytes 0 drop comment \"b\" # handle 11\n"
        "\t\ttcp dport 22 counter packets 7 bytes 420 accept comment \"c\" # handle 12\n"
        "\t\tcounter packets 99 bytes 9900 comment \"d\" # handle 13\n"
        "\t\tcounter packets 1 bytes 2 # handle 14\n"
        "\t\tudp dport 123 accept comment \"o\" # handle 15\n"
        "\t}\n"
        "\n"
        "\tchain output { # handle 4\n"
        "\t\ttype filter hook output priority filter; policy accept;\n"
        "\t\tudp dport 53 accept comment \"x\" # handle 20\n"
        "\t}\n"
        "}\n";

/* ---- helpers ---- */

static void parse_ok(const char *text, struct nftm_table **t)
{
        assert_int_equal(nft_read(text, t), 0);
}

static const char *delta_with(const char *old, const char *new, const char *listing)
{
        parse_ok(old, &S.o);
        parse_ok(new, &S.n);
        if (listing)
                assert_int_equal(nftd_parse_handles(listing, &S.h), 0);
        S.full = true;
        assert_int_equal(nftd_delta(S.o, S.n, listing ? &S.h : NULL, &S.script, &S.full), 0);
        return S.script;
}

static void expect_script_at(const char *old, const char *new, const char *listing,
                             const char *want, const char *file, int line)
{
        const char *got = delta_with(old, new, listing);
        if (S.full || !got || strcmp(got, want)) {
                print_message("%s:%d: full=%d, script:\n%s\n--- expected:\n%s\n", file, line,
                              S.full, got ? got : "(null)", want);
                fail();
        }
}
#define expect_script(o, n, want) expect_script_at((o), (n), LIST, (want), __FILE__, __LINE__)

static void expect_full_at(const char *old, const char *new, const char *listing,
                           const char *file, int line)
{
        const char *got = delta_with(old, new, listing);
        if (!S.full || got) {
                print_message("%s:%d: expected full, got script:\n%s\n", file, line,
                              got ? got : "(null)");
                fail();
        }
}
#define expect_full(o, n) expect_full_at((o), (n), LIST, __FILE__, __LINE__)

#define ADD "add rule inet nr input "
#define INS "insert rule inet nr input "
#define DEL "delete rule inet nr input "
#define REP "replace rule inet nr input "

/* ---- parsing ---- */

/* Handle of (chain, id), or 0 when the listing had none. */
static uint64_t handle(const char *chain, const char *id)
{
        uint64_t h = 0;
        return nftd_handle_find(&S.h, chain, id, &h) ? h : 0;
}

static void parse_handles(void **state)
{
        (void)state;
        assert_int_equal(nftd_parse_handles(LIST, &S.h), 0);
        /* the id-less rule and the set element's comment are not rules with ids */
        assert_int_equal(S.h.n, 6);
        assert_int_equal(handle("input", "a"), 10);
        assert_int_equal(handle("input", "b"), 11);
        assert_int_equal(handle("input", "c"), 12);
        assert_int_equal(handle("input", "d"), 13);
        assert_int_equal(handle("input", "o"), 15);
        assert_int_equal(handle("output", "x"), 20);
        assert_int_equal(handle("output", "a"), 0);
        assert_int_equal(handle("input", ""), 0);

        nftd_handles_free(&S.h);
        assert_int_equal(nftd_parse_handles(BASE, &S.h), 0); /* no handles in a rendering */
        assert_int_equal(S.h.n, 0);

        nftd_handles_free(&S.h);
        assert_int_equal(nftd_parse_handles("table inet nr {\n\tchain c {\n"
                                            "\t\taccept comment \"h\" # handle\n"
                                            "\t\taccept comment \"h\" # handle x1\n"
                                            "\t\taccept comment \"h\" #handle 3\n"
                                            "\t\taccept comment \"h\" # handle 4\n\t}\n}\n",
                                            &S.h),
                         0);
        assert_int_equal(S.h.n, 1);
        assert_int_equal(handle("c", "h"), 4);

        nftd_handles_free(&S.h);
        static const char long_chain[] =
                "table inet nr {\n\tchain "
                "c234567890123456789012345678901234567890123456789012345678901234 {\n"
                "\t\taccept comment \"a\" # handle 4\n\t}\n}\n";
        assert_int_equal(nftd_parse_handles(long_chain, &S.h), -EINVAL);
        assert_null(S.h.v);
        assert_int_equal(nftd_parse_counters(long_chain, &S.c), -EINVAL);
        assert_null(S.c.v);
}

static void parse_counters(void **state)
{
        (void)state;
        assert_int_equal(nftd_parse_counters(LIST, &S.c), 0);
        /* "o" has no counter, the rule with handle 14 no id */
        assert_int_equal(S.c.n, 4);
        assert_string_equal(S.c.v[0].chain, "input");
        assert_string_equal(S.c.v[0].id, "a");
        assert_int_equal(S.c.v[0].packets, 5);
        assert_int_equal(S.c.v[0].bytes, 300);
        assert_string_equal(S.c.v[2].id, "c");
        assert_int_equal(S.c.v[2].packets, 7);
        assert_int_equal(S.c.v[2].bytes, 420);
        assert_string_equal(S.c.v[3].id, "d");
        assert_int_equal(S.c.v[3].packets, 99);
        assert_int_equal(S.c.v[3].bytes, 9900);

        nftd_counters_free(&S.c);
        assert_int_equal(nftd_parse_counters("table inet nr {\n\tchain c {\n\t\tcounter packets "
                                             "18446744073709551615 bytes 1 comment \"big\"\n"
                                             "\t\tcounter packets 99999999999999999999 bytes "
                                             "1 comment \"overflow\"\n\t}\n}\n",
                                             &S.c),
                         0);
        assert_int_equal(S.c.n, 1);
        assert_true(S.c.v[0].packets == UINT64_MAX);

        nftd_counters_free(&S.c);
        assert_int_equal(nftd_parse_counters("table inet nr {\n\tchain c {\n"
                                             "\t\tcounter packets 1 comment \"p\"\n"
                                             "\t\tcounter packets 1 bytes comment \"q\"\n"
                                             "\t\tcounter packets  bytes 2 comment \"r\"\n"
                                             "\t\tcounter packets 1 bytes 2 comment \"\"\n\t}\n}\n",
                                             &S.c),
                         0);
        assert_int_equal(S.c.n, 0);
}

/* ---- delta: nothing, elements ---- */

static void delta_nothing(void **state)
{
        (void)state;
        expect_script(BASE, BASE, "");
        teardown(state);
        /* comments and layout are not in the kernel: still nothing */
        expect_script(BASE,
                      "table inet nr {\n  comment \"managed\"\n" ALLOW(
                              "\t\telements = { 10.0.3.0/24, 172.16.0.0/22 }\n") FWD2
                              INPUT("\t\t# another comment\n" RA RB RC "\n" RD) "}\n",
                      "");
}

static void delta_set_elements(void **state)
{
        (void)state;
        expect_script(BASE,
                      TBL(ALLOW("\t\telements = { 10.0.0.0/16,\n\t\t\t     172.16.0.0/22,\n"
                                "\t\t\t     192.168.9.0/24 }\n") FWD2 INPUT(RA RB RC RD)),
                      "delete element inet nr allow { 10.0.3.0/24 }\n"
                      "add element inet nr allow { 10.0.0.0/16, 192.168.9.0/24 }\n");
}

static void delta_set_emptied_and_filled(void **state)
{
        (void)state;
        expect_script(BASE, TBL(ALLOW("") FWD2 INPUT(RA RB RC RD)),
                      "delete element inet nr allow { 10.0.3.0/24, 172.16.0.0/22 }\n");
        teardown(state);
        expect_script(TBL(ALLOW("") FWD2 INPUT(RA RB RC RD)), BASE,
                      "add element inet nr allow { 10.0.3.0/24, 172.16.0.0/22 }\n");
}

/* A changed value: delete by key, then add the entry; a removed entry: its key only. */
static void delta_map_elements(void **state)
{
        (void)state;
        expect_script(BASE,
                      TBL(ALLOW2 FWD("\t\telements = { tcp . 3390 : 10.0.2.10 . 3388,\n"
                                     "\t\t\t     tcp . 22 : 10.0.2.12 . 22 }\n")
                                  INPUT(RA RB RC RD)),
                      "delete element inet nr fwd { tcp . 3390, udp . 5000 }\n"
                      "add element inet nr fwd { tcp . 3390 : 10.0.2.10 . 3388, "
                      "tcp . 22 : 10.0.2.12 . 22 }\n");
}

static void delta_set_header_changed(void **state)
{
        (void)state;
        expect_full(BASE, TBL(ALLOW("\t\tsize 100\n\t\telements = { 10.0.3.0/24,\n"
                                    "\t\t\t     172.16.0.0/22 }\n") FWD2 INPUT(RA RB RC RD)));
}

static void delta_set_added(void **state)
{
        (void)state;
        expect_full(BASE, TBL(ALLOW2 FWD2 "\tset more {\n\t\ttype ipv4_addr\n\t}\n"
                                  INPUT(RA RB RC RD)));
}

static void delta_set_removed(void **state)
{
        (void)state;
        expect_full(BASE, TBL(FWD2 INPUT(RA RB RC RD)));
}

static void delta_set_renamed(void **state)
{
        (void)state;
        expect_full(BASE, TBL("\n\tset allow2 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                              "\t\tcomment \"sources\"\n\t}\n" FWD2 INPUT(RA RB RC RD)));
}

/* Same name and header, but a set became a map: nft cannot change that in place. */
static void delta_set_became_map(void **state)
{
        (void)state;
        expect_full(TBL("\tset s {\n\t\ttype ipv4_addr\n\t}\n"),
                    TBL("\tmap s {\n\t\ttype ipv4_addr\n\t}\n"));
}

/* ---- delta: table and chains that need a full reload ---- */

static void delta_top_changed(void **state)
{
        (void)state;
        expect_full(BASE, "table inet nr {\n\tcomment \"other\"\n" ALLOW2 FWD2
                          INPUT(RA RB RC RD) "}\n");
        teardown(state);
        expect_full(BASE, TBL("\tflags dormant\n" ALLOW2 FWD2 INPUT(RA RB RC RD)));
        teardown(state);
        expect_full(BASE, "table inet other {\n\tcomment \"managed\"\n" ALLOW2 FWD2
                          INPUT(RA RB RC RD) "}\n");
}

static void delta_chain_header_changed(void **state)
{
        (void)state;
        expect_full(TBL(INPUT(RA RB)),
                    TBL("\tchain input {\n\t\ttype filter hook input priority filter; policy "
                        "accept;\n" RA RB "\t}\n"));
}

static void delta_chain_added_removed(void **state)
{
        (void)state;
        expect_full(TBL(INPUT(RA RB)), TBL(INPUT(RA RB) OUTPUT(RX)));
        teardown(state);
        expect_full(TBL(INPUT(RA RB) OUTPUT(RX)), TBL(INPUT(RA RB)));
        teardown(state);
        expect_full(TBL(INPUT(RA RB) OUTPUT(RX)),
                    TBL(INPUT(RA RB) "\tchain output2 {\n\t\ttype filter hook output priority "
                                     "filter; policy accept;\n" RX "\t}\n"));
}

static void delta_order_changed(void **state)
{
        (void)state;
        expect_full(TBL(INPUT(RA RB RC RD)), TBL(INPUT(RA RC RB RD)));
        teardown(state);
        /* also when other rules come and go around the swapped pair */
        expect_full(TBL(INPUT(RA RB RC RD)), TBL(INPUT(RX RD RB RY)));
}

static void delta_idless_changed(void **state)
{
        (void)state;
        expect_full(TBL(INPUT(RA RN RB)), TBL(INPUT(RA "\t\tcounter drop\n" RB)));
        teardown(state);
        expect_full(TBL(INPUT(RA RB)), TBL(INPUT(RA RN RB))); /* added */
        teardown(state);
        expect_full(TBL(INPUT(RA RN RB)), TBL(INPUT(RA RB))); /* removed */
        teardown(state);
        expect_full(TBL(INPUT(RA RN RB)), TBL(INPUT(RA RB RN))); /* moved */
}

static void delta_duplicate_ids(void **state)
{
        (void)state;
        expect_full(TBL(INPUT(RA RB)), TBL(INPUT(RA RB RX "\t\tudp dport 1 comment \"x\"\n")));
        teardown(state);
        expect_full(TBL(INPUT(RA RA)), TBL(INPUT(RA)));
}

/* The live table lacks a rule the delta must address: only a full reload is safe. */
static void delta_missing_handle(void **state)
{
        static const char no_b[] = "table inet nr {\n\tchain input {\n"
                                   "\t\tiif \"lo\" accept comment \"a\" # handle 10\n"
                                   "\t\tct state invalid drop comment \"b\"\n"
                                   "\t}\n\tchain other {\n"
                                   "\t\tct state invalid drop comment \"b\" # handle 11\n"
                                   "\t}\n}\n";
        (void)state;
        /* delete */
        expect_full_at(TBL(INPUT(RA RB)), TBL(INPUT(RA)), no_b, __FILE__, __LINE__);
        teardown(state);
        /* replace */
        expect_full_at(TBL(INPUT(RA RB)), TBL(INPUT(RA "\t\tdrop comment \"b\"\n")), no_b,
                       __FILE__, __LINE__);
        teardown(state);
        /* anchor after */
        expect_full_at(TBL(INPUT(RA RB RC)), TBL(INPUT(RA RB RX RC)), no_b, __FILE__, __LINE__);
        teardown(state);
        /* ...but at the end of the chain a plain add appends: no anchor needed */
        expect_script_at(TBL(INPUT(RA RB)), TBL(INPUT(RA RB RX)), no_b,
                         ADD "udp dport 53 accept comment \"x\"\n", __FILE__, __LINE__);
        teardown(state);
        /* anchor before */
        expect_full_at(TBL(INPUT(RB RA)), TBL(INPUT(RX RB RA)), no_b, __FILE__, __LINE__);
        teardown(state);
        /* no listing at all */
        expect_full_at(TBL(INPUT(RA RB)), TBL(INPUT(RA)), NULL, __FILE__, __LINE__);
        teardown(state);
        /* ...which is fine while no rule needs a handle */
        expect_script_at(TBL(ALLOW2 INPUT(RA)), TBL(ALLOW("") INPUT(RA)), NULL,
                         "delete element inet nr allow { 10.0.3.0/24, 172.16.0.0/22 }\n",
                         __FILE__, __LINE__);
}

/* ---- delta: single rules ---- */

static void delta_rule_deleted(void **state)
{
        (void)state;
        expect_script(TBL(INPUT(RA RB RC RD)), TBL(INPUT(RA RD)),
                      DEL "handle 11\n" DEL "handle 12\n");
}

/* The new text, not the listing's normalized one, is what goes in. */
static void delta_rule_replaced(void **state)
{
        (void)state;
        expect_script(TBL(INPUT(RA RB RC RD)),
                      TBL(INPUT(RA RB "\t\ttcp dport 22 ip saddr @ssh counter accept comment "
                                      "\"c\"\n" RD)),
                      REP "handle 12 tcp dport 22 ip saddr @ssh counter accept comment \"c\"\n");
}

static void delta_rule_added_after(void **state)
{
        (void)state;
        expect_script(TBL(INPUT(RA RB RC RD)), TBL(INPUT(RA RB RX RC RD)),
                      ADD "position 11 udp dport 53 accept comment \"x\"\n");
        teardown(state);
        /* a run after one anchor goes in backwards, each right after the anchor */
        expect_script(TBL(INPUT(RA RB RC RD)), TBL(INPUT(RA RB RX RY RC RD)),
                      ADD "position 11 udp dport 67 accept comment \"y\"\n"
                      ADD "position 11 udp dport 53 accept comment \"x\"\n");
        teardown(state);
        /* at the end of the chain */
        expect_script(TBL(INPUT(RA RB RC RD)), TBL(INPUT(RA RB RC RD RX)),
                      ADD "position 13 udp dport 53 accept comment \"x\"\n");
}

static void delta_rule_inserted_before(void **state)
{
        (void)state;
        /* nothing old before them: before the first old rule, in order */
        expect_script(TBL(INPUT(RC RD)), TBL(INPUT(RX RY RC RD)),
                      INS "position 12 udp dport 53 accept comment \"x\"\n"
                      INS "position 12 udp dport 67 accept comment \"y\"\n");
        teardown(state);
        /* the old rules before them are gone */
        expect_script(TBL(INPUT(RA RB RC)), TBL(INPUT(RX RC)),
                      DEL "handle 10\n" DEL "handle 11\n"
                      INS "position 12 udp dport 53 accept comment \"x\"\n");
}

static void delta_rules_into_empty_chain(void **state)
{
        (void)state;
        expect_script(TBL(INPUT("")), TBL(INPUT(RX RY)),
                      ADD "udp dport 53 accept comment \"x\"\n"
                      ADD "udp dport 67 accept comment \"y\"\n");
        teardown(state);
        /* every old rule replaced by new ones: they are deleted, the new ones appended */
        expect_script(TBL(INPUT(RA RB)), TBL(INPUT(RX RY)),
                      DEL "handle 10\n" DEL "handle 11\n"
                      ADD "udp dport 53 accept comment \"x\"\n"
                      ADD "udp dport 67 accept comment \"y\"\n");
        teardown(state);
        expect_script(TBL(INPUT(RA RB)), TBL(INPUT("")), DEL "handle 10\n" DEL "handle 11\n");
}

/* A rule without an id cannot be an anchor: the next one with an id is used, else full. */
static void delta_idless_neighbours(void **state)
{
        (void)state;
        expect_script(TBL(INPUT(RA RN RC)), TBL(INPUT(RA RN RX RC)),
                      INS "position 12 udp dport 53 accept comment \"x\"\n");
        teardown(state);
        expect_script(TBL(INPUT(RA RN RC)), TBL(INPUT(RA RX RN RC)),
                      ADD "position 10 udp dport 53 accept comment \"x\"\n");
        teardown(state);
        /* after an id-less rule: no anchor, but at the end of the chain a plain add does */
        expect_script(TBL(INPUT(RA RN)), TBL(INPUT(RA RN RX)),
                      ADD "udp dport 53 accept comment \"x\"\n");
        teardown(state);
        expect_full(TBL(INPUT(RN RA)), TBL(INPUT(RX RN RA)));
}

/* Everything at once: element changes first (deletes before adds), then per chain deletes,
 * placed adds and replaces — a replaced rule keeps its handle, so it can anchor an add. */
static void delta_combined(void **state)
{
        (void)state;
        expect_script(BASE "",
                      TBL(ALLOW("\t\telements = { 10.0.3.0/24 }\n") FWD2 INPUT(
                              RX RA "\t\tct state invalid counter drop comment \"b\"\n" RY RD)),
                      "delete element inet nr allow { 172.16.0.0/22 }\n"
                      DEL "handle 12\n"
                      INS "position 10 udp dport 53 accept comment \"x\"\n"
                      ADD "position 11 udp dport 67 accept comment \"y\"\n"
                      REP "handle 11 ct state invalid counter drop comment \"b\"\n");
}

/* Chains are matched by name and patched in the new text's order. */
static void delta_two_chains(void **state)
{
        (void)state;
        expect_script(TBL(INPUT(RA RO) OUTPUT(RX)), TBL(OUTPUT(RX RY) INPUT(RO)),
                      "add rule inet nr output position 20 udp dport 67 accept comment \"y\"\n"
                      DEL "handle 10\n");
}

/* Named counters (a port forward's): added before any element may refer to them, deleted after
 * none does any more; the elements of a map to them are as any map's. A listing's counter
 * blocks give their values under the chain "". */
#define CNT(name) "\n\tcounter " name " {\n\t}\n"
#define REFS(elems) "\n\tmap refs {\n\t\ttype inet_service : counter\n" elems "\t}\n"
static void delta_named_counters(void **state)
{
        (void)state;
        expect_script(TBL(CNT("c1") CNT("c2") REFS("\t\telements = { 1 : \"c1\", 2 : \"c2\" }\n")
                              INPUT(RA)),
                      TBL(CNT("c2") CNT("c3") REFS("\t\telements = { 2 : \"c2\", 3 : \"c3\" }\n")
                              INPUT(RA)),
                      "add counter inet nr c3\n"
                      "delete element inet nr refs { 1 }\n"
                      "add element inet nr refs { 3 : \"c3\" }\n"
                      "delete counter inet nr c1\n");
        teardown(state);
        /* the counters alone become a set: the structure changed */
        expect_full_at(TBL(CNT("c1") INPUT(RA)), TBL(ALLOW2 INPUT(RA)), LIST, __FILE__, __LINE__);
        teardown(state);
        assert_int_equal(nftd_parse_counters("table inet nr {\n\tcounter c1 { # handle 5\n"
                                             "\t\tpackets 3 bytes 180\n\t}\n"
                                             "\tcounter c2 {\n\t\tcomment \"x\"\n"
                                             "\t\tpackets 0 bytes 0\n\t}\n"
                                             "\tchain c {\n\t\tcounter packets 1 bytes 2 "
                                             "comment \"r\"\n\t}\n}\n",
                                             &S.c),
                         0);
        assert_int_equal(S.c.n, 3);
        assert_string_equal(S.c.v[0].chain, "");
        assert_string_equal(S.c.v[0].id, "c1");
        assert_int_equal(S.c.v[0].packets, 3);
        assert_int_equal(S.c.v[0].bytes, 180);
        assert_string_equal(S.c.v[1].id, "c2");
        assert_string_equal(S.c.v[2].chain, "c");
        assert_string_equal(S.c.v[2].id, "r");
}

/* `table bridge` (render_nft_bridge): the family parsed is the family of every command; a table
 * that changed family is another table. */
#define BR(body) "table bridge nr {\n\tcomment \"managed\"\n" body "}\n"
static const char LIST_BR[] = "table bridge nr { # handle 4\n"
                              "\tcomment \"managed\"\n"
                              "\tchain input { # handle 1\n"
                              "\t\ttype filter hook input priority filter; policy drop;\n"
                              "\t\tiif \"lo\" accept comment \"a\" # handle 10\n"
                              "\t\tct state invalid drop comment \"b\" # handle 11\n"
                              "\t}\n"
                              "}\n";

static void delta_bridge_family(void **state)
{
        (void)state;
        parse_ok(BR(ALLOW2), &S.o);
        assert_string_equal(S.o->family, "bridge");
        teardown(state);
        expect_script_at(BR(ALLOW2 INPUT(RA RB)),
                         BR(ALLOW("\t\telements = { 10.0.3.0/24 }\n") INPUT(RA RC)), LIST_BR,
                         "delete element bridge nr allow { 172.16.0.0/22 }\n"
                         "delete rule bridge nr input handle 11\n"
                         "add rule bridge nr input position 10 tcp dport 22 accept comment \"c\"\n",
                         __FILE__, __LINE__);
        teardown(state);
        expect_full_at(TBL(ALLOW2), BR(ALLOW2), LIST_BR, __FILE__, __LINE__);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(parse_handles),
                TEST(parse_counters),
                TEST(delta_named_counters),
                TEST(delta_nothing),
                TEST(delta_set_elements),
                TEST(delta_set_emptied_and_filled),
                TEST(delta_map_elements),
                TEST(delta_set_header_changed),
                TEST(delta_set_added),
                TEST(delta_set_removed),
                TEST(delta_set_renamed),
                TEST(delta_set_became_map),
                TEST(delta_top_changed),
                TEST(delta_chain_header_changed),
                TEST(delta_chain_added_removed),
                TEST(delta_order_changed),
                TEST(delta_idless_changed),
                TEST(delta_duplicate_ids),
                TEST(delta_missing_handle),
                TEST(delta_rule_deleted),
                TEST(delta_rule_replaced),
                TEST(delta_rule_added_after),
                TEST(delta_rule_inserted_before),
                TEST(delta_rules_into_empty_chain),
                TEST(delta_idless_neighbours),
                TEST(delta_combined),
                TEST(delta_two_chains),
                TEST(delta_bridge_family),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
