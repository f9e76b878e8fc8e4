/* nft_model: the table as data — its one text form, digests that ignore comments but nothing
 * the kernel sees, and the dump a restarted daemon reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/nft_model.h"

static struct nftm_table *small(const char *note, const char *elem2)
{
        struct nftm_table *t = nftm_new("inet", "nr", "managed");
        assert_non_null(t);
        nftm_preamble(t, "# %s\n", note);
        nftm_set(t, false, "allow", "ipv4_addr", true, "sources");
        nftm_elem(t, "10.0.3.0/24");
        nftm_elem(t, "%s", elem2);
        nftm_set(t, true, "fwd", "inet_proto . inet_service : ipv4_addr . inet_service", false,
                 "forwards");
        nftm_set(t, false, "empty", "ifname", false, "");
        nftm_chain(t, "input", "type filter hook input priority filter; policy drop;");
        nftm_chain_note(t, note);
        nftm_rule(t, "a", NULL, "iif \"lo\" accept");
        nftm_rule(t, "", note, "counter");
        nftm_chain(t, "count", "");
        assert_int_equal(nftm_finish(t), 0);
        return t;
}

static void text_form(void **state)
{
        (void)state;
        struct nftm_table *t = small("why\ntwo lines", "172.16.0.0/22");
        char *s = nftm_text(t);
        assert_string_equal(s, "# why\ntwo lines\n"
                               "table inet nr {\n\tcomment \"managed\"\n"
                               "\n\tset allow {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                               "\t\tcomment \"sources\"\n"
                               "\t\telements = { 10.0.3.0/24,\n\t\t\t     172.16.0.0/22 }\n\t}\n"
                               "\n\tmap fwd {\n\t\ttype inet_proto . inet_service : ipv4_addr . "
                               "inet_service\n\t\tcomment \"forwards\"\n\t}\n"
                               "\n\tset empty {\n\t\ttype ifname\n\t\tcomment \"\"\n\t}\n"
                               "\n\tchain input {\n"
                               "\t\ttype filter hook input priority filter; policy drop;\n"
                               "\t\t# why\n\t\t# two lines\n"
                               "\t\tiif \"lo\" accept comment \"a\"\n"
                               "\t\t# why\n\t\t# two lines\n\t\tcounter\n\t}\n"
                               "\n\tchain count {\n\t}\n}\n");
        free(s);
        nftm_unref(t);
}

static void digests(void **state)
{
        (void)state;
        struct nftm_table *a = small("one", "172.16.0.0/22"), *b = small("other", "172.16.0.0/22");
        struct nftm_table *c = small("one", "172.16.0.0/23");
        assert_true(nftm_equal(a, b)); /* comments never reach the kernel */
        assert_int_equal(a->sets[0].digest, b->sets[0].digest);
        assert_false(nftm_equal(a, c));
        assert_true(a->sets[0].digest != c->sets[0].digest);
        assert_int_equal(a->sets[1].digest, c->sets[1].digest);
        assert_int_equal(a->chains[0].digest, c->chains[0].digest);
        assert_false(nftm_equal(a, NULL));
        assert_false(nftm_equal(NULL, a));
        /* a reference is the same table */
        struct nftm_table *r = nftm_ref(a);
        assert_ptr_equal(r, a);
        nftm_unref(r);
        nftm_unref(a);
        nftm_unref(b);
        nftm_unref(c);
}

/* nftm_hash is XXH64: the digests of xxhsum -H1 (xxHash 0.8), through every path of it (the
 * 32-byte stripes, 8- and 4-byte words, single bytes) */
static void hash_is_xxh64(void **state)
{
        (void)state;
        unsigned char seq[100], xs[37];
        for (size_t i = 0; i < sizeof(seq); i++)
                seq[i] = (unsigned char)i;
        memset(xs, 'x', sizeof(xs));
        assert_true(nftm_hash("", 0, 0) == 0xef46db3751d8e999ull);
        assert_true(nftm_hash("a", 1, 0) == 0xd24ec4f1a98c6e5bull);
        assert_true(nftm_hash("abc", 3, 0) == 0x44bc2cf5ad770999ull);
        assert_true(nftm_hash("nestrouter", 10, 0) == 0x3c90291d9e76f7baull);
        assert_true(nftm_hash(seq, sizeof(seq), 0) == 0x6ac1e58032166597ull);
        assert_true(nftm_hash(xs, sizeof(xs), 0) == 0x1e580c475bdc5381ull);
}

static void dump_and_load(void **state)
{
        (void)state;
        struct nftm_table *t = small("x", "tab\there, newline\nthere, back\\slash"), *u = NULL;
        char *d = nftm_dump(t);
        assert_non_null(d);
        assert_int_equal(nftm_load(d, &u), 0);
        assert_true(nftm_equal(t, u));
        assert_string_equal(nftm_str(u, u->sets[0].elems[1]), "tab\there, newline\nthere, back\\slash");
        assert_int_equal(u->chains[0].n_rules, 2);
        assert_int_equal(u->chains[0].rules[1].id, 0);
        char *d2 = nftm_dump(u);
        assert_string_equal(d, d2);
        free(d2);
        nftm_unref(u);

        /* another digest, a cut, another format: not a table we know */
        char *bad = strdup(d);
        char *dg = strstr(bad, "\ndigest\t");
        dg[9] = dg[9] == '0' ? '1' : '0';
        assert_int_equal(nftm_load(bad, &u), -EINVAL);
        assert_null(u);
        strcpy(bad, d);
        *strstr(bad, "\nchain") = '\0';
        assert_int_equal(nftm_load(bad, &u), -EINVAL);
        assert_int_equal(nftm_load("table inet nestrouter {\n}\n", &u), -EINVAL);
        assert_int_equal(nftm_load("", &u), -EINVAL);
        assert_null(u);
        free(bad);
        free(d);
        nftm_unref(t);
}

/* Named counters: a group whose elements are counter names, written before the sets (maps
 * refer to them), part of the digests, and kept by the dump as a group of its own. */
static void named_counters(void **state)
{
        (void)state;
        struct nftm_table *t = nftm_new("inet", "nr", ""), *v = nftm_new("inet", "nr", "");
        struct nftm_table *u = NULL;
        nftm_set(t, true, "refs", "inet_service : counter", false, "");
        nftm_elem(t, "80 : \"c80\"");
        nftm_objects(t, "counters", "counter");
        nftm_elem(t, "c80");
        nftm_elem(t, "c81");
        assert_int_equal(nftm_finish(t), 0);
        assert_true(t->sets[1].objects);
        char *s = nftm_text(t);
        assert_string_equal(s, "table inet nr {\n"
                               "\n\tcounter c80 {\n\t}\n\n\tcounter c81 {\n\t}\n"
                               "\n\tmap refs {\n\t\ttype inet_service : counter\n"
                               "\t\tcomment \"\"\n\t\telements = { 80 : \"c80\" }\n\t}\n}\n");
        free(s);
        /* the same names as a plain set is another table */
        nftm_set(v, true, "refs", "inet_service : counter", false, "");
        nftm_elem(v, "80 : \"c80\"");
        nftm_set(v, false, "counters", "counter", false, "");
        nftm_elem(v, "c80");
        nftm_elem(v, "c81");
        assert_int_equal(nftm_finish(v), 0);
        assert_false(nftm_equal(t, v));
        char *d = nftm_dump(t);
        assert_int_equal(nftm_load(d, &u), 0);
        assert_true(nftm_equal(t, u));
        assert_true(u->sets[1].objects);
        assert_int_equal(u->sets[1].n_elems, 2);
        free(d);
        nftm_unref(u);
        nftm_unref(v);
        nftm_unref(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(text_form),
                cmocka_unit_test(digests),
                cmocka_unit_test(hash_is_xxh64),
                cmocka_unit_test(dump_and_load),
                cmocka_unit_test(named_counters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
