/* Scheduled Events: one GET per poll; one event handled at a time. The guest shutdown reuses
 * the virt helper's stop command (the shutdown job of `nestrouterctl vm stop`), one per running
 * guest; each answer arrives on a socketpair whose closing means "this guest is done". */
#include "azure/azure_events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/azure/imds.h"
#include "daemon.h"
#include "azure/imds_client.h"
#include "lib/log.h"

#define EVENTS_PATH "/metadata/scheduledevents?api-version=2020-07-01"

static uint64_t poll_usec(void)
{
        const char *s = getenv("NR_IMDS_EVENTS_SEC"); /* tests: 1; Azure suggests ~1 s */
        long v = s ? strtol(s, NULL, 10) : 2;
        return (uint64_t)(v > 0 ? v : 2) * 1000000ull;
}

static bool wanted(const struct nr_daemon *d)
{
        return d->cfg && d->cfg->azure.present && d->cfg->azure.scheduled_events;
}

static void rearm(struct nr_daemon *d)
{
        uint64_t now;
        sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(d->aze.timer, now + poll_usec());
        sd_event_source_set_enabled(d->aze.timer, SD_EVENT_ONESHOT);
}

static bool handled(const struct nr_aze *e, const char *id)
{
        for (unsigned i = 0; i < AZE_HANDLED_MAX && i < e->n_handled; i++)
                if (!strcmp(e->handled[i], id))
                        return true;
        return !strcmp(e->active, id);
}

static void mark(struct nr_aze *e, const char *id)
{
        snprintf(e->handled[e->n_handled++ % AZE_HANDLED_MAX], sizeof(e->handled[0]), "%s", id);
}

static void on_acked(void *userdata, int status, const char *body, size_t len, uint32_t local)
{
        struct nr_daemon *d = userdata;
        (void)body;
        (void)len;
        (void)local;
        d->aze.busy = false;
        if (status == 200 || status == 204) {
                d->aze.acks++;
        } else {
                log_warn("imds: acknowledging %s failed (%s%d)", d->aze.last,
                         status < 0 ? "errno " : "HTTP ", status < 0 ? -status : status);
        }
}

static void ack(struct nr_daemon *d, const char *id, const char *why)
{
        char *body = imds_ack_body(id);
        char dev[NR_IFNAMSIZ] = "";
        struct nr_facts facts;
        struct imds_roles roles;
        mark(&d->aze, id);
        snprintf(d->aze.last, sizeof(d->aze.last), "event %s acknowledged: %s", id, why);
        log_notice("imds: %s", d->aze.last);
        azw_roles(d, &roles);
        daemon_facts(&d->nl, d->cfg, &roles, &facts);
        if (facts.uplink[NR_UPLINK_NAT].found)
                snprintf(dev, sizeof(dev), "%s", facts.uplink[NR_UPLINK_NAT].ifname);
        if (!body || imdsc_request(d->ev, dev, EVENTS_PATH, body, on_acked, d) < 0)
                log_warn("imds: cannot send the acknowledgement of %s", id);
        else
                d->aze.busy = true;
        free(body);
}

static void shutdown_done(struct nr_daemon *d, const char *why)
{
        char id[64];
        snprintf(id, sizeof(id), "%s", d->aze.active);
        d->aze.active[0] = '\0';
        d->aze.deadline = sd_event_source_disable_unref(d->aze.deadline);
        ack(d, id, why);
}

static int on_guest_done(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct nr_daemon *d = userdata;
        char buf[512];
        (void)revents;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n > 0) {
                /* the stop job's answer: "exit N" and one line per guest */
                buf[n] = '\0';
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                        if (strncmp(line, "exit ", 5))
                                log_info("imds: %s", line);
                return 0;
        }
        sd_event_source_disable_unref(s);
        close(fd);
        if (d->aze.pending && --d->aze.pending == 0 && d->aze.active[0])
                shutdown_done(d, "guests are down");
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct nr_daemon *d = userdata;
        (void)s;
        (void)usec;
        if (d->aze.active[0])
                shutdown_done(d, "guest shutdown timed out");
        return 0;
}

/* One stop command per running guest of ours; returns how many were sent. */
static unsigned stop_guests(struct nr_daemon *d, unsigned timeout)
{
        struct virtb *b = &d->virt;
        unsigned sent = 0;
        char *body = NULL;
        if (!b->helper.pid || !b->connected)
                return 0;
        virtb_command(b, "guests hold", -1, &body); /* no autostart while maintenance comes */
        free(body);
        for (size_t i = 0; i < b->n_snap; i++) {
                int sv[2];
                if (b->snap[i].owned != 1 || strcmp(b->snap[i].state, "running"))
                        continue;
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        continue;
                if (virtb_send_cmd(b, sv[1], timeout + 30, "stop %s %u acpi", b->snap[i].name,
                                   timeout) < 0) {
                        close(sv[0]);
                        close(sv[1]);
                        continue;
                }
                if (sd_event_add_io(d->ev, NULL, sv[0], EPOLLIN, on_guest_done, d) < 0) {
                        close(sv[0]);
                        continue;
                }
                sent++;
        }
        return sent;
}

/* The guests' shutdown, with the timeout cut to what NotBefore leaves (less 5 s for the
 * acknowledgement). */
static void stop_all_guests(struct nr_daemon *d)
{
        unsigned t = d->cfg->azure.event_shutdown_timeout;
        int64_t now = (int64_t)time(NULL);
        if (d->aze.not_before > 0) {
                int64_t left = d->aze.not_before - now - 5;
                if (left < (int64_t)t)
                        t = left > 1 ? (unsigned)left : 1;
        }
        log_notice("imds: scheduled %s (event %s): shutting the guests down, timeout %u s",
                   d->aze.active_type, d->aze.active, t);
        d->aze.pending = stop_guests(d, t);
        if (!d->aze.pending) {
                shutdown_done(d, "no guest was running");
                return;
        }
        uint64_t mono;
        sd_event_now(d->ev, CLOCK_MONOTONIC, &mono);
        sd_event_add_time(d->ev, &d->aze.deadline, CLOCK_MONOTONIC,
                          mono + (uint64_t)(t + 5) * 1000000ull, 100000, on_deadline, d);
}

void aze_drained(struct nr_daemon *d)
{
        if (d->aze.active[0] && d->cfg)
                stop_all_guests(d);
}

static void start_shutdown(struct nr_daemon *d, const struct imds_event *ev, const char *type)
{
        snprintf(d->aze.active, sizeof(d->aze.active), "%s", ev->id);
        snprintf(d->aze.active_type, sizeof(d->aze.active_type), "%s", type);
        d->aze.not_before = ev->not_before;
        if (d->cfg->bgp.present) {
                /* first the advertisement goes, so that Azure sends the guests' traffic
                 * elsewhere (a standby) while they stop; the reboot brings it back. The guests
                 * stop once BIRD has sent the withdraw (aze_drained). */
                char *msg = NULL;
                log_notice("imds: scheduled %s (event %s): draining BGP before the guests stop",
                           type, ev->id);
                int r = daemon_drain(d, true, true, &msg);
                free(msg);
                if (r >= 0 && daemon_drain_wait(d, -1, true, true))
                        return;
        }
        stop_all_guests(d);
}

static void on_events(void *userdata, int status, const char *body, size_t len, uint32_t local)
{
        static const char *const names[] = {"Freeze", "Reboot", "Redeploy", "Preempt",
                                            "Terminate", "other"};
        struct nr_daemon *d = userdata;
        struct imds_events evs;
        const char *err = NULL;
        char host[NR_AZNAME_MAX] = "";
        (void)local;
        d->aze.busy = false;
        d->aze.polls++;
        if (wanted(d))
                rearm(d);
        if (status != 200 || !d->cfg)
                return; /* the network watch reports IMDS trouble; events just try again */
        const char *vm = d->cfg->azure.vm_name;
        if (!vm[0] && gethostname(host, sizeof(host) - 1) == 0)
                vm = host;
        if (imds_parse_events(body, len, vm, &evs, &err) < 0) {
                log_warn("imds: scheduled events: %s", err ? err : "malformed");
                return;
        }
        for (size_t i = 0; i < evs.n && !d->aze.busy && !d->aze.active[0]; i++) {
                const struct imds_event *ev = &evs.ev[i];
                if (!ev->scheduled || handled(&d->aze, ev->id))
                        continue;
                if (!ev->for_us) {
                        log_info("imds: event %s (%s) is not for %s; ignored", ev->id,
                                 names[ev->type], vm);
                        mark(&d->aze, ev->id);
                        continue;
                }
                switch (ev->type) {
                case IMDS_EVENT_TYPE_FREEZE:
                        ack(d, ev->id, "Freeze: nothing to do");
                        break;
                case IMDS_EVENT_TYPE_REBOOT:
                case IMDS_EVENT_TYPE_REDEPLOY:
                case IMDS_EVENT_TYPE_PREEMPT:
                case IMDS_EVENT_TYPE_TERMINATE:
                        start_shutdown(d, ev, names[ev->type]);
                        break;
                case IMDS_EVENT_TYPE_OTHER:
                        mark(&d->aze, ev->id);
                        break;
                }
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct nr_daemon *d = userdata;
        char dev[NR_IFNAMSIZ] = "";
        struct nr_facts facts;
        struct imds_roles roles;
        (void)s;
        (void)usec;
        if (!wanted(d))
                return 0;
        if (d->aze.busy) {
                rearm(d);
                return 0;
        }
        azw_roles(d, &roles);
        daemon_facts(&d->nl, d->cfg, &roles, &facts);
        if (facts.uplink[NR_UPLINK_NAT].found)
                snprintf(dev, sizeof(dev), "%s", facts.uplink[NR_UPLINK_NAT].ifname);
        if (imdsc_request(d->ev, dev, EVENTS_PATH, NULL, on_events, d) < 0)
                rearm(d);
        else
                d->aze.busy = true;
        return 0;
}

void aze_kick(struct nr_daemon *d)
{
        if (!wanted(d))
                return;
        if (!d->aze.timer &&
            sd_event_add_time(d->ev, &d->aze.timer, CLOCK_MONOTONIC, 1, 10000, on_timer, d) < 0)
                return;
        if (!d->aze.busy) {
                sd_event_source_set_time(d->aze.timer, 1);
                sd_event_source_set_enabled(d->aze.timer, SD_EVENT_ONESHOT);
        }
}

void aze_close(struct nr_aze *e)
{
        e->timer = sd_event_source_disable_unref(e->timer);
        e->deadline = sd_event_source_disable_unref(e->deadline);
}
