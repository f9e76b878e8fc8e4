/* The IMDS HTTP client: connect (non-blocking), send, read to EOF, split status and body. The
 * reply is bounded (IMDS documents are a few KiB); a slow or silent IMDS only costs a timeout. */
#include "imds_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "core/http.h"

#define REPLY_MAX 65536

struct imdsc {
        int fd;
        sd_event_source *io, *timer, *defer;
        char *req;
        size_t req_len, req_off;
        char *buf;
        size_t len;
        uint32_t local;
        int err;                   /* set before finishing from the defer source */
        imdsc_cb cb;
        void *userdata;
        struct imdsc *next, **pprev; /* the requests in flight, for imdsc_cancel_all() */
};

static struct imdsc *in_flight;

static void release(struct imdsc *c)
{
        if (c->pprev) {
                *c->pprev = c->next;
                if (c->next)
                        c->next->pprev = c->pprev;
        }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->defer);
        if (c->fd >= 0)
                close(c->fd);
}

static void finish(struct imdsc *c, int status, const char *body, size_t len)
{
        imdsc_cb cb = c->cb;
        void *ud = c->userdata;
        uint32_t local = c->local;
        release(c);
        /* the callback may start the next request; c is gone by then */
        char *buf = c->buf, *req = c->req;
        free(c);
        cb(ud, status, body, len, local);
        free(buf);
        free(req);
}

static void finish_reply(struct imdsc *c)
{
        size_t off;
        int status = http_response(c->buf, c->len, &off);
        if (status < 0)
                finish(c, status, NULL, 0);
        else
                finish(c, status, c->buf + off, c->len - off);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct imdsc *c = userdata;
        (void)s;
        if (c->req_off < c->req_len) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr) {
                        finish(c, -soerr, NULL, 0);
                        return 0;
                }
                struct sockaddr_in sa;
                socklen_t al = sizeof(sa);
                if (!c->local && getsockname(fd, (struct sockaddr *)&sa, &al) == 0)
                        c->local = ntohl(sa.sin_addr.s_addr);
                ssize_t n = send(fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        finish(c, -errno, NULL, 0);
                        return 0;
                }
                c->req_off += n > 0 ? (size_t)n : 0;
                if (c->req_off == c->req_len)
                        sd_event_source_set_io_events(c->io, EPOLLIN);
                return 0;
        }
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        ssize_t n = recv(fd, c->buf + c->len, REPLY_MAX - c->len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n < 0) {
                finish(c, -errno, NULL, 0);
                return 0;
        }
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        if (n == 0 || c->len == REPLY_MAX)
                finish_reply(c);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        finish(userdata, -ETIMEDOUT, NULL, 0);
        return 0;
}

static int on_defer(sd_event_source *s, void *userdata)
{
        struct imdsc *c = userdata;
        (void)s;
        finish(c, c->err, NULL, 0);
        return 0;
}

static int open_socket(struct imdsc *c, const char *dev, const char *addr)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
        if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
                return -EINVAL;
        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        if (dev && *dev &&
            setsockopt(c->fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0)
                return -errno;
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
                return -errno;
        return 0;
}

int imdsc_request(sd_event *ev, const char *dev, const char *path, const char *body, imdsc_cb cb,
                  void *userdata)
{
        const char *addr = getenv("NR_IMDS_ADDR") ?: IMDSC_ADDR_DEFAULT;
        struct imdsc *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = -1;
        c->cb = cb;
        c->userdata = userdata;
        c->buf = malloc(REPLY_MAX + 1);
        size_t n = 0;
        c->req = http_request(path, addr, body, &n);
        uint64_t now;
        int r = !c->req || !c->buf ? -ENOMEM : 0;
        c->req_len = n;
        if (r >= 0)
                r = sd_event_now(ev, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(ev, &c->timer, CLOCK_MONOTONIC, now + IMDSC_TIMEOUT_USEC,
                                      10000, on_timeout, c);
        if (r >= 0 && (c->err = open_socket(c, dev, addr)) < 0)
                r = sd_event_add_defer(ev, &c->defer, on_defer, c); /* report it asynchronously */
        else if (r >= 0)
                r = sd_event_add_io(ev, &c->io, c->fd, EPOLLOUT, on_io, c);
        if (r < 0) {
                release(c);
                free(c->buf);
                free(c->req);
                free(c);
                return r;
        }
        c->next = in_flight;
        if (in_flight)
                in_flight->pprev = &c->next;
        c->pprev = &in_flight;
        in_flight = c;
        return 0;
}

void imdsc_cancel_all(void)
{
        while (in_flight) {
                struct imdsc *c = in_flight;
                release(c); /* unlinks it */
                free(c->buf);
                free(c->req);
                free(c);
        }
}
