/* SEQPACKET message channel with a send queue. A peer that goes away (EOF, HUP, an error) closes
 * the channel once and calls on_close. */
#include "backend/virt/chan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

struct chan_msg {
        struct chan_msg *next;
        size_t len;
        char data[];
};

bool chan_is_open(const struct chan *c)
{
        return c->fd >= 0;
}

static void drop_queue(struct chan *c)
{
        while (c->head) {
                struct chan_msg *m = c->head;
                c->head = m->next;
                free(m);
        }
        c->tail = NULL;
}

void chan_close(struct chan *c)
{
        c->src = sd_event_source_disable_unref(c->src);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        drop_queue(c);
        free(c->rbuf);
        c->rbuf = NULL;
}

static void lost(struct chan *c)
{
        void (*cb)(void *) = c->on_close;
        void *ud = c->userdata;
        chan_close(c);
        if (cb)
                cb(ud);
}

/* writes queued messages; false when the peer is gone */
static bool flush(struct chan *c)
{
        while (c->head) {
                ssize_t w = send(c->fd, c->head->data, c->head->len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && (errno == EAGAIN || errno == ENOBUFS))
                        break;
                if (w < 0)
                        return false;
                struct chan_msg *m = c->head;
                c->head = m->next;
                if (!c->head)
                        c->tail = NULL;
                free(m);
        }
        sd_event_source_set_io_events(c->src, EPOLLIN | (c->head ? EPOLLOUT : 0));
        return true;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct chan *c = userdata;
        (void)s;
        if ((revents & EPOLLOUT) && !flush(c)) {
                lost(c);
                return 0;
        }
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        for (int i = 0; i < 64 && c->fd >= 0; i++) { /* a burst, then let others run */
                ssize_t n = recv(fd, c->rbuf, CHAN_MSG_MAX, MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0) {
                        lost(c);
                        return 0;
                }
                if (n >= CHAN_MSG_MAX)
                        continue; /* truncated: no such message exists in the protocol */
                c->rbuf[n] = '\0';
                c->on_msg(c->rbuf, (size_t)n, c->userdata);
        }
        return 0;
}

int chan_open(struct chan *c, sd_event *ev, int fd, void (*on_msg)(char *, size_t, void *),
              void (*on_close)(void *), void *userdata)
{
        memset(c, 0, sizeof(*c));
        c->fd = fd;
        c->on_msg = on_msg;
        c->on_close = on_close;
        c->userdata = userdata;
        c->rbuf = malloc(CHAN_MSG_MAX + 1);
        if (!c->rbuf) {
                chan_close(c);
                return -ENOMEM;
        }
        int sz = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        int r = sd_event_add_io(ev, &c->src, fd, EPOLLIN, on_io, c);
        if (r < 0)
                chan_close(c);
        return r;
}

int chan_send(struct chan *c, const char *data, size_t len)
{
        if (c->fd < 0)
                return -ENOTCONN;
        if (len >= CHAN_MSG_MAX)
                return -EMSGSIZE;
        struct chan_msg *m = malloc(sizeof(*m) + len);
        if (!m)
                return -ENOMEM;
        m->next = NULL;
        m->len = len;
        memcpy(m->data, data, len);
        if (c->tail)
                c->tail->next = m;
        else
                c->head = m;
        c->tail = m;
        if (!flush(c)) {
                lost(c);
                return -EPIPE;
        }
        return 0;
}

int chan_sendf(struct chan *c, const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = chan_send(c, s, (size_t)n);
        free(s);
        return r;
}
