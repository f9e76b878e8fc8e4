/* The daemon's side of the IMDS client (lib/imds_http.c): the exchange driven by the sd-event
 * loop, with a hard timeout. A slow or silent IMDS only costs that timeout. */
#include "azure/imds_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "lib/imds_http.h"

struct imdsc {
        struct imds_http x;
        sd_event_source *io, *timer, *defer;
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
}

static void finish(struct imdsc *c, int status, const char *body, size_t len)
{
        imdsc_cb cb = c->cb;
        void *ud = c->userdata;
        struct imds_http x = c->x; /* body points into it */
        release(c);
        /* the callback may start the next request; c is gone by then */
        free(c);
        cb(ud, status, body, len, x.local);
        imds_http_close(&x);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct imdsc *c = userdata;
        const char *body;
        size_t len;
        (void)fd, (void)revents;
        int r = imds_http_step(&c->x);
        if (r > 0) {
                sd_event_source_set_io_events(s, imds_http_events(&c->x));
                return 0;
        }
        if (r == 0 && (r = imds_http_result(&c->x, &body, &len)) >= 0)
                finish(c, r, body, len);
        else
                finish(c, r, NULL, 0);
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

int imdsc_request(sd_event *ev, const char *dev, const char *path, const char *body, imdsc_cb cb,
                  void *userdata)
{
        const char *addr = getenv("NR_IMDS_ADDR") ?: IMDSC_ADDR_DEFAULT;
        struct imdsc *c = calloc(1, sizeof(*c));
        uint64_t now;
        if (!c)
                return -ENOMEM;
        c->x.fd = -1;
        c->cb = cb;
        c->userdata = userdata;
        int r = sd_event_now(ev, CLOCK_MONOTONIC, &now);
        if (r >= 0)
                r = sd_event_add_time(ev, &c->timer, CLOCK_MONOTONIC, now + IMDSC_TIMEOUT_USEC,
                                      10000, on_timeout, c);
        if (r >= 0 && (c->err = imds_http_open(&c->x, dev, addr, path, body)) < 0)
                r = sd_event_add_defer(ev, &c->defer, on_defer, c); /* report it asynchronously */
        else if (r >= 0)
                r = sd_event_add_io(ev, &c->io, c->x.fd, imds_http_events(&c->x), on_io, c);
        if (r < 0) {
                release(c);
                imds_http_close(&c->x);
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
                imds_http_close(&c->x);
                free(c);
        }
}
