/* The JSON reader and the IMDS documents: network roles by MAC in any order, scheduled events
 * for this VM only, and malformed input that must fail cleanly. */
#include "unit_helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/azure/imds.h"
#include "core/parse/json.h"

#define NIC(mac, ip, net)                                                                        \
        "{\"ipv4\":{\"ipAddress\":[{\"privateIpAddress\":\"" ip "\",\"publicIpAddress\":\"\"}],"  \
        "\"subnet\":[{\"address\":\"" net "\",\"prefix\":\"24\"}]},\"ipv6\":{\"ipAddress\":[]},"  \
        "\"macAddress\":\"" mac "\"}"

static void test_json_basics(void **state)
{
        (void)state;
        const char *txt = " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\\\"\"], \"b\": {}} ";
        const char *err = NULL;
        struct json *j = json_parse(txt, strlen(txt), &err);
        assert_non_null(j);
        const struct json *a = json_get(j, "a");
        assert_non_null(a);
        assert_int_equal(a->type, JSON_TYPE_ARRAY);
        assert_string_equal(a->child->str, "1");
        assert_string_equal(a->child->next->str, "-2.5e3");
        assert_true(a->child->next->next->b);
        const struct json *s = a->child->next->next->next->next->next;
        assert_string_equal(s->str, "x\xc3\xa9\n\"");
        assert_int_equal(json_get(j, "b")->type, JSON_TYPE_OBJECT);
        assert_null(json_get(j, "c"));
        json_free(j);
}

static void test_json_rejects(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "\"abc", "\"\\x\"", "\"\\u12\"",
                "tru", "nul", "-", "[1] 2", "{1:2}", "\"a\x01\"", "[01x]", "+1", ".5",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *err = NULL;
                struct json *j = json_parse(bad[i], strlen(bad[i]), &err);
                if (j)
                        fail_msg("accepted '%s'", bad[i]);
                assert_non_null(err);
        }
        char deep[200];
        memset(deep, '[', sizeof(deep));
        assert_null(json_parse(deep, sizeof(deep), NULL));
        /* not NUL-terminated: the length bounds the reader */
        char buf[4] = {'"', 'a', 'b', 'c'};
        assert_null(json_parse(buf, sizeof(buf), NULL));
}

static struct tcfg *azure_cfg(void)
{
        struct tcfg *t = check_text("version: 1\nguests: {subnet: 10.0.2.0/24}\nuplinks:\n"
                                    "  nat: {match: {azure: primary}, address: dhcp}\n"
                                    "  lan: {match: {azure_subnet: 10.0.1.0/24}, address: dhcp,"
                                    " routes: [10.0.0.0/22]}\n");
        expect_clean(t);
        return t;
}

static void test_network_roles_any_order(void **state)
{
        (void)state;
        struct tcfg *t = azure_cfg();
        /* NIC2 listed first: the order says nothing about which NIC is primary */
        const char *doc = "{\"interface\":[" NIC("000D3A000002", "10.0.1.4", "10.0.1.0") ","
                          NIC("000D3A000001", "10.0.0.4", "10.0.0.0") "]}";
        struct imds_network net;
        assert_int_equal(imds_parse_network(doc, strlen(doc), &net, NULL), 0);
        assert_int_equal(net.n, 2);
        assert_string_equal(mac_s(net.nics[0].mac).s, "00:0d:3a:00:00:02");
        assert_string_equal(prefix_s(net.nics[1].subnets[0]).s, "10.0.0.0/24");
        struct imds_roles roles;
        uint32_t local;
        assert_int_equal(ip_parse("10.0.0.4", &local), 0);
        imds_resolve_roles(&t->cfg, &net, local, &roles);
        assert_int_equal(roles.primary, 1);
        assert_true(roles.known[NR_UPLINK_NAT] && roles.known[NR_UPLINK_LAN]);
        assert_string_equal(mac_s(roles.mac[NR_UPLINK_NAT]).s, "00:0d:3a:00:00:01");
        assert_string_equal(mac_s(roles.mac[NR_UPLINK_LAN]).s, "00:0d:3a:00:00:02");
        /* no source address known: the primary stays unknown, the subnet role does not */
        imds_resolve_roles(&t->cfg, &net, 0, &roles);
        assert_false(roles.known[NR_UPLINK_NAT]);
        assert_true(roles.known[NR_UPLINK_LAN]);
}

static void test_network_rejects(void **state)
{
        (void)state;
        struct imds_network net;
        const char *err = NULL;
        assert_int_equal(imds_parse_network("{}", 2, &net, &err), -EINVAL);
        assert_string_equal(err, "no \"interface\" array");
        /* a NIC without a usable MAC is skipped, not fatal */
        const char *doc = "{\"interface\":[{\"macAddress\":\"XYZ\"}," NIC("000D3A000001", "10.0.0.4",
                                                                         "10.0.0.0") "]}";
        assert_int_equal(imds_parse_network(doc, strlen(doc), &net, NULL), 0);
        assert_int_equal(net.n, 1);
}

static void test_events(void **state)
{
        (void)state;
        const char *doc =
                "{\"DocumentIncarnation\":3,\"Events\":["
                "{\"EventId\":\"A1\",\"EventType\":\"Reboot\",\"ResourceType\":\"VirtualMachine\","
                "\"Resources\":[\"router\"],\"EventStatus\":\"Scheduled\","
                "\"NotBefore\":\"Mon, 19 Sep 2016 18:29:47 GMT\"},"
                "{\"EventId\":\"B2\",\"EventType\":\"Freeze\",\"Resources\":[\"other\"],"
                "\"EventStatus\":\"Scheduled\",\"NotBefore\":\"\"},"
                "{\"EventId\":\"C3\",\"EventType\":\"Live\",\"Resources\":[\"ROUTER\"]}]}";
        struct imds_events e;
        assert_int_equal(imds_parse_events(doc, strlen(doc), "router", &e, NULL), 0);
        assert_string_equal(e.incarnation, "3");
        assert_int_equal(e.n, 3);
        assert_int_equal(e.ev[0].type, IMDS_EVENT_TYPE_REBOOT);
        assert_true(e.ev[0].for_us && e.ev[0].scheduled);
        assert_int_equal(e.ev[0].not_before, 1474309787);
        assert_false(e.ev[1].for_us);
        assert_int_equal(e.ev[1].type, IMDS_EVENT_TYPE_FREEZE);
        assert_int_equal(e.ev[1].not_before, 0);
        assert_int_equal(e.ev[2].type, IMDS_EVENT_TYPE_OTHER);
        assert_true(e.ev[2].for_us);
        assert_int_equal(imds_parse_http_date("Mon, 19 Foo 2016 18:29:47 GMT"), -1);
        assert_int_equal(imds_parse_http_date("garbage"), -1);
        char *ack = imds_ack_body("A1-b2");
        assert_string_equal(ack, "{\"StartRequests\":[{\"EventId\":\"A1-b2\"}]}");
        free(ack);
        assert_null(imds_ack_body("x\"y"));
}

/* Every prefix and every single-byte change of both documents: parse or fail, never crash or
 * leak (ASan/UBSan build). A poor man's fuzzer for a parser fed by the network. */
static void test_mutations(void **state)
{
        (void)state;
        const char *docs[] = {
                "{\"interface\":[" NIC("000D3A000002", "10.0.1.4", "10.0.1.0") "]}",
                "{\"DocumentIncarnation\":3,\"Events\":[{\"EventId\":\"A1\",\"EventType\":"
                "\"Reboot\",\"Resources\":[\"r\"],\"EventStatus\":\"Scheduled\",\"NotBefore\":"
                "\"Mon, 19 Sep 2016 18:29:47 GMT\"}]}",
        };
        static const char subst[] = "\"\\{}[],:0a-\x01\xff u";
        for (size_t d = 0; d < 2; d++) {
                size_t len = strlen(docs[d]);
                char *buf = malloc(len);
                for (size_t cut = 0; cut <= len; cut++) {
                        struct imds_network net;
                        struct imds_events ev;
                        memcpy(buf, docs[d], cut); /* exactly cut bytes: no terminator */
                        imds_parse_network(buf, cut, &net, NULL);
                        imds_parse_events(buf, cut, "r", &ev, NULL);
                }
                for (size_t i = 0; i < len; i++)
                        for (size_t k = 0; k < sizeof(subst) - 1; k++) {
                                struct imds_network net;
                                struct imds_events ev;
                                memcpy(buf, docs[d], len);
                                buf[i] = subst[k];
                                imds_parse_network(buf, len, &net, NULL);
                                imds_parse_events(buf, len, "r", &ev, NULL);
                        }
                free(buf);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_json_basics),
                TEST(test_json_rejects),
                TEST(test_network_roles_any_order),
                TEST(test_network_rejects),
                TEST(test_events),
                TEST(test_mutations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
