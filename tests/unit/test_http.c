/* The HTTP/1.0 both IMDS clients speak (core/parse/http.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/parse/http.h"

static void test_request(void **state)
{
        (void)state;
        size_t n = 0;
        char *r = http_request("/metadata/instance?api-version=2021-02-01", "169.254.169.254",
                               NULL, &n);
        assert_string_equal(r, "GET /metadata/instance?api-version=2021-02-01 HTTP/1.0\r\n"
                               "Host: 169.254.169.254\r\nMetadata: true\r\n\r\n");
        assert_int_equal(n, strlen(r));
        free(r);
        r = http_request("/metadata/scheduledevents?api-version=2020-07-01", "169.254.169.254",
                         "{\"StartRequests\":[]}", &n);
        assert_string_equal(r, "POST /metadata/scheduledevents?api-version=2020-07-01 HTTP/1.0\r\n"
                               "Host: 169.254.169.254\r\nMetadata: true\r\n"
                               "Content-Type: application/json\r\nContent-Length: 20\r\n\r\n"
                               "{\"StartRequests\":[]}");
        assert_int_equal(n, strlen(r));
        free(r);
}

static void test_response(void **state)
{
        (void)state;
        size_t off = 0;
        const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}";
        assert_int_equal(http_response(ok, strlen(ok), &off), 200);
        assert_string_equal(ok + off, "{\"a\":1}");
        const char nobody[] = "HTTP/1.0 400 Bad Request\r\nX: y";
        assert_int_equal(http_response(nobody, strlen(nobody), &off), 400);
        assert_int_equal(off, strlen(nobody));
        const char *bad[] = {"", "HTTP/1.1", "HTTP/1.1 20", "SSH-2.0-OpenSSH_9.2\r\n\r\n",
                             "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 700 High\r\n\r\n"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_int_equal(http_response(bad[i], strlen(bad[i]), &off), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request),
                cmocka_unit_test(test_response),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
