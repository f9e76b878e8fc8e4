#define _GNU_SOURCE
/* imds-responder: the simulated VNet's IMDS for tests (vnet.sh serves static files with busybox
 * httpd, which cannot take a POST). Usage: imds-responder ADDR DOCROOT ACKLOG
 * Listens on ADDR:80. A request without "Metadata: true" gets 400, like Azure's. GET /PATH?QUERY
 * serves DOCROOT/PATH; POST appends its body and a newline to ACKLOG (the Scheduled Events
 * acknowledgements) and answers 200. One connection at a time, HTTP/1.0, 64 KiB at most. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void reply(int c, int status, const char *body, size_t len)
{
        char head[256];
        int n = snprintf(head, sizeof(head), "HTTP/1.0 %d X\r\nContent-Type: application/json\r\n"
                                             "Content-Length: %zu\r\n\r\n", status, len);
        if (write(c, head, (size_t)n) < 0 || (len && write(c, body, len) < 0))
                perror("imds-responder: write");
}

static void serve(int c, const char *root, const char *acklog)
{
        static char req[65537], file[65536];
        size_t len = 0;
        char *end = NULL;
        ssize_t k;
        while (len < sizeof(req) - 1 && (k = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
                len += (size_t)k;
                req[len] = '\0';
                end = strstr(req, "\r\n\r\n");
                const char *cl = strcasestr(req, "\r\nContent-Length:");
                size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
                if (end && len >= (size_t)(end + 4 - req) + want)
                        break;
        }
        char method[8], path[1024];
        if (!end || sscanf(req, "%7s %1023s", method, path) != 2) {
                reply(c, 400, "bad request\n", 12);
                return;
        }
        if (!strcasestr(req, "\r\nMetadata: true\r\n")) {
                reply(c, 400, "{\"error\":\"Bad request. Required metadata header not specified\"}", 63);
                return;
        }
        path[strcspn(path, "?")] = '\0';
        if (!strcmp(method, "POST")) {
                FILE *f = fopen(acklog, "a");
                if (f) {
                        fprintf(f, "%s\n", end + 4);
                        fclose(f);
                }
                reply(c, f ? 200 : 500, "", 0);
                return;
        }
        char fn[2048];
        snprintf(fn, sizeof(fn), "%s%s", root, path);
        FILE *f = strstr(path, "..") ? NULL : fopen(fn, "r");
        if (!f) {
                reply(c, 404, "not found\n", 10);
                return;
        }
        size_t n = fread(file, 1, sizeof(file), f);
        fclose(f);
        reply(c, 200, file, n);
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: imds-responder ADDR DOCROOT ACKLOG\n");
                return 2;
        }
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
        int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0) {
                perror("imds-responder");
                return 1;
        }
        for (;;) {
                int c = accept(s, NULL, NULL);
                if (c < 0)
                        continue;
                struct timeval tv = {.tv_sec = 2};
                setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                serve(c, argv[2], argv[3]);
                close(c);
        }
}
