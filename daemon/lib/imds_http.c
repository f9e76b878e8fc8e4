/* The IMDS exchange (imds_http.h): connect, send, read to EOF or the size bound; no waiting
 * here except in imds_http_fetch, the blocking driver. */
#include "lib/imds_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/parse/http.h"

void imds_http_close(struct imds_http *x)
{
        if (x->fd >= 0)
                close(x->fd);
        free(x->req);
        free(x->buf);
        memset(x, 0, sizeof(*x));
        x->fd = -1;
}

static int open_socket(struct imds_http *x, const char *dev, const char *addr)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
        if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
                return -EINVAL;
        x->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (x->fd < 0)
                return -errno;
        if (dev && *dev &&
            setsockopt(x->fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0)
                return -errno;
        if (connect(x->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
                return -errno;
        return 0;
}

int imds_http_open(struct imds_http *x, const char *dev, const char *addr, const char *path,
                   const char *body)
{
        memset(x, 0, sizeof(*x));
        x->fd = -1;
        x->buf = malloc(IMDS_HTTP_REPLY_MAX + 1);
        x->req = http_request(path, addr, body, &x->req_len);
        int r = x->buf && x->req ? open_socket(x, dev, addr) : -ENOMEM;
        if (r < 0) {
                imds_http_close(x);
                return r;
        }
        x->buf[0] = '\0';
        return 0;
}

uint32_t imds_http_events(const struct imds_http *x)
{
        return x->req_off < x->req_len ? POLLOUT : POLLIN;
}

static int send_some(struct imds_http *x)
{
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr)
                return -soerr;
        struct sockaddr_in sa;
        socklen_t al = sizeof(sa);
        if (!x->local && getsockname(x->fd, (struct sockaddr *)&sa, &al) == 0)
                x->local = ntohl(sa.sin_addr.s_addr);
        ssize_t n = send(x->fd, x->req + x->req_off, x->req_len - x->req_off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
                return -errno;
        x->req_off += n > 0 ? (size_t)n : 0;
        return 1;
}

int imds_http_step(struct imds_http *x)
{
        if (x->req_off < x->req_len)
                return send_some(x);
        ssize_t n = recv(x->fd, x->buf + x->len, IMDS_HTTP_REPLY_MAX - x->len, 0);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 1 : -errno;
        x->len += (size_t)n;
        x->buf[x->len] = '\0';
        return n == 0 || x->len == IMDS_HTTP_REPLY_MAX ? 0 : 1;
}

int imds_http_result(const struct imds_http *x, const char **body, size_t *len)
{
        size_t off;
        int status = http_response(x->buf, x->len, &off);
        *body = status >= 0 ? x->buf + off : NULL;
        *len = status >= 0 ? x->len - off : 0;
        return status;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int imds_http_fetch(const char *dev, const char *addr, const char *path, const char *body,
                    int timeout_ms, char **out, uint32_t *local)
{
        struct imds_http x;
        int64_t deadline = now_ms() + timeout_ms;
        int r = imds_http_open(&x, dev, addr, path, body);
        *out = NULL;
        while (r >= 0) {
                struct pollfd p = {.fd = x.fd, .events = (short)imds_http_events(&x)};
                int64_t left = deadline - now_ms();
                int n = left > 0 ? poll(&p, 1, (int)left) : 0;
                if (n < 0 && errno == EINTR)
                        continue;
                r = n < 0 ? -errno : n == 0 ? -ETIMEDOUT : imds_http_step(&x);
                if (r == 0)
                        break;
        }
        if (r == 0) {
                const char *b;
                size_t len;
                r = imds_http_result(&x, &b, &len);
                if (r >= 0 && !(*out = strndup(b, len)))
                        r = -ENOMEM;
        }
        if (local && x.fd >= 0)
                *local = x.local;
        if (x.fd >= 0 || x.buf)
                imds_http_close(&x);
        return r;
}
