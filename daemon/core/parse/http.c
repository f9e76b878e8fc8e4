/* HTTP/1.0 requests and answers for the IMDS clients. */
#include "core/parse/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *http_request(const char *path, const char *host, const char *body, size_t *len)
{
        char *req = NULL;
        int n = body ? asprintf(&req,
                                "POST %s HTTP/1.0\r\nHost: %s\r\nMetadata: true\r\n"
                                "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                path, host, strlen(body), body)
                     : asprintf(&req, "GET %s HTTP/1.0\r\nHost: %s\r\nMetadata: true\r\n\r\n",
                                path, host);
        if (n < 0)
                return NULL;
        *len = (size_t)n;
        return req;
}

int http_response(const char *buf, size_t len, size_t *body_off)
{
        int status = 0;
        if (len < 12 || strncmp(buf, "HTTP/1.", 7) || sscanf(buf + 9, "%3d", &status) != 1 ||
            buf[8] != ' ' || status < 100 || status > 599)
                return -EBADMSG;
        const char *end = memmem(buf, len, "\r\n\r\n", 4);
        *body_off = end ? (size_t)(end + 4 - buf) : len;
        return status;
}
