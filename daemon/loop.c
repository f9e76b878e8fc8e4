/* The sd-event loop: signals, kernel and nftables event sockets, the config-file watch, the
 * periodic safety-net resync and the watchdog. SIGTERM leaves the data plane in place. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "control/control.h"
#include "daemon.h"
#include "lib/fileio.h"
#include "azure/imds_client.h"
#include "lib/log.h"

#define EVENT_COALESCE_USEC 10000ull    /* bursts of kernel events become one pass */

static uint64_t resync_usec(void)
{
        const char *s = getenv("NR_RESYNC_SEC"); /* tests shorten it; default 5 minutes */
        long v = s ? strtol(s, NULL, 10) : 300;
        return (uint64_t)(v > 0 ? v : 300) * 1000000ull;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct nr_daemon *d = userdata;
        (void)s;
        if (si->ssi_signo == SIGHUP) {
                log_info("SIGHUP: reloading %s", d->o.config);
                daemon_reload(d);
                return 0;
        }
        if (si->ssi_signo == SIGUSR1) {
                /* at 3 a.m. nobody wants to restart the daemon (and lose its state) to see more */
                bool on = log_get_level() < LOG_PRI_DEBUG;
                log_set_level(on ? LOG_PRI_DEBUG : LOG_PRI_INFO);
                log_notice("SIGUSR1: debug logging %s", on ? "on" : "off");
                return 0;
        }
        log_info("signal %u: exiting; the data plane stays in place", si->ssi_signo);
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_netlink(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct nr_daemon *d = userdata;
        (void)s, (void)fd, (void)revents;
        unsigned long links = d->nl.link_events;
        int n = nlb_monitor_drain(&d->nl);
        if (d->nl.link_events != links)
                engine_retry_now(&d->eng); /* a port or uplink came or went: retry now */
        if (n == -ENOBUFS) {
                d->n.overruns++;
                log_obj(LOG_PRI_NOTICE, "netlink", "rtnetlink",
                        "netlink: events lost (ENOBUFS); the next pass re-reads everything");
        }
        if (n > 0)
                log_debug("netlink: %d events", n);
        d->n.events_netlink += n > 0 ? (uint64_t)n : 0;
        if (n != 0)
                daemon_schedule(d, EVENT_COALESCE_USEC);
        return 0;
}

static int on_nft(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct nr_daemon *d = userdata;
        (void)s, (void)fd, (void)revents;
        int n = nftb_monitor_drain(&d->nft);
        if (n == -ENOBUFS) {
                d->n.overruns++;
                log_obj(LOG_PRI_NOTICE, "nft", "inet nestrouter",
                        "nft: events lost (ENOBUFS); the next pass lists the table");
        }
        if (n > 0)
                log_debug("nft: %d events%s", n,
                          d->nft.trusted ? "" : "; not all ours: the next pass lists the table");
        d->n.events_nft += n > 0 ? (uint64_t)n : 0;
        if (n != 0)
                daemon_schedule(d, EVENT_COALESCE_USEC);
        return 0;
}

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct nr_daemon *d = userdata;
        sd_event_source_set_time(s, usec + resync_usec());
        nftb_distrust(&d->nft); /* belt and braces: list the table whatever the events said */
        log_debug("periodic resync: a full pass, the nft table listed");
        daemon_schedule(d, 0);
        return 0;
}

/* cloud-init may write the file after we start: while the file on disk is not accepted (missing,
 * invalid, or rejected by the last reload), any change to it is tried without a SIGHUP. Once
 * it is accepted, further changes wait for a reload. */
static int on_config_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
        struct nr_daemon *d = userdata;
        char *copy = strdup(d->o.config);
        (void)s;
        if (copy && ev->len && !strcmp(ev->name, basename(copy)) && !d->config_ok) {
                log_info("%s changed; trying it", d->o.config);
                daemon_reload(d);
        }
        free(copy);
        return 0;
}

/* dnsmasq rewrote its lease file: the bridge table's bindings follow the leases. */
static int on_state_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
        (void)s;
        if (ev->len && !strcmp(ev->name, "dnsmasq.leases"))
                daemon_schedule(userdata, EVENT_COALESCE_USEC);
        return 0;
}

static void dm_exited(void *userdata)
{
        daemon_schedule(userdata, 0);
}

static int setup_sources(struct nr_daemon *d)
{
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGUSR1);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);
        int r;
        if ((r = sd_event_add_signal(d->ev, NULL, SIGTERM, on_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->ev, NULL, SIGINT, on_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->ev, NULL, SIGHUP, on_signal, d)) < 0 ||
            (r = sd_event_add_signal(d->ev, NULL, SIGUSR1, on_signal, d)) < 0 ||
            (r = sd_event_add_io(d->ev, NULL, nlb_monitor_fd(&d->nl), EPOLLIN, on_netlink, d)) < 0 ||
            (r = sd_event_add_io(d->ev, NULL, nftb_monitor_fd(&d->nft), EPOLLIN, on_nft, d)) < 0)
                return r;
        uint64_t now;
        sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
        if ((r = sd_event_add_time(d->ev, &d->resync_timer, CLOCK_MONOTONIC,
                                   now + resync_usec(), 1000000, on_resync, d)) < 0)
                return r;
        sd_event_source_set_enabled(d->resync_timer, SD_EVENT_ON);
        char *copy = strdup(d->o.config);
        if (!copy)
                return -ENOMEM;
        r = sd_event_add_inotify(d->ev, NULL, dirname(copy),
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE, on_config_dir, d);
        if (r < 0)
                log_warn_errno(r, "cannot watch %s: %m (send SIGHUP after writing it)", copy);
        free(copy);
        r = sd_event_add_inotify(d->ev, NULL, d->o.state_dir,
                                 IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE, on_state_dir,
                                 d);
        if (r < 0)
                log_warn_errno(r, "cannot watch %s: %m (leases reach the bridge table at the "
                                  "next pass)", d->o.state_dir);
        /* sd-event sends WATCHDOG=1 at half of WATCHDOG_USEC while the loop turns */
        sd_event_set_watchdog(d->ev, true);
        return 0;
}

static int open_backends(struct nr_daemon *d)
{
        int r;
        if ((r = dir_ensure(d->o.run_dir, 0755)) < 0)
                return log_err_errno(r, "%s: %m", d->o.run_dir);
        if ((r = dir_ensure(d->o.state_dir, 0755)) < 0)
                return log_err_errno(r, "%s: %m", d->o.state_dir);
        if ((r = nlb_open(&d->nl)) < 0)
                return log_err_errno(r, "netlink: %m");
        if ((r = nftb_open(&d->nft, d->o.state_dir, d->o.run_dir)) < 0)
                return log_err_errno(r, "nftables: %m");
        if ((r = dmb_open(&d->dm, d->ev, d->o.run_dir, d->o.state_dir, dm_exited, d)) < 0)
                return log_err_errno(r, "dnsmasq: %m");
        if ((r = bgpb_open(&d->bgp, d->o.run_dir, d->o.state_dir)) < 0)
                return log_err_errno(r, "bgp: %m");
        if ((r = virtb_open(&d->virt, d->ev, d->o.run_dir, d->o.state_dir, &d->n)) < 0)
                return log_err_errno(r, "guests: %m");
        daemon_engine_init(d);
        return 0;
}

static void daemon_free(struct nr_daemon *d)
{
        imdsc_cancel_all();
        azw_close(&d->azw);
        aze_close(&d->aze);
        daemon_drain_wait_close(d);
        virtb_close(&d->virt); /* stops the virt helper; the guests keep running */
        dmb_close(&d->dm);
        bgpb_close(&d->bgp); /* BIRD stays: its routes stay advertised */
        nftb_close(&d->nft);
        nlb_close(&d->nl);
        engine_free(&d->eng);
        free(d->owned_text);
        if (d->have_prev)
                model_free(&d->prev);
        confirm_close(&d->confirm);
        if (d->cfg) {
                cfg_free(d->cfg);
                free(d->cfg);
        }
        free(d->cfg_text);
        daemon_free_retired(d);
        diag_free(&d->errors);
        debounce_free(&d->pass);
        sd_event_source_unref(d->settle_src);
        sd_event_source_unref(d->resync_timer);
        sd_event_unref(d->ev);
}

int daemon_run(const struct nr_daemon_opts *o)
{
        struct nr_daemon d = {.o = *o};
        struct nr_control ctl = {0};
        int r = sd_event_default(&d.ev);
        if (r < 0)
                return log_err_errno(r, "sd-event: %m");
        if ((r = open_backends(&d)) < 0 || (r = setup_sources(&d)) < 0 ||
            (r = metrics_open(&d)) < 0 || (r = control_open(&ctl, &d)) < 0) {
                log_err_errno(r, "startup: %m");
                goto out;
        }
        log_info("nestrouterd starting: config %s, run dir %s, state dir %s%s%s", o->config,
                 o->run_dir, o->state_dir, log_get_level() >= LOG_PRI_DEBUG ? ", debug" : "",
                 log_to_journal() ? ", logging to the journal" : "");
        daemon_owned_load(&d); /* what an earlier run made: removed if no longer wanted */
        confirm_recover(&d); /* a reload left unconfirmed by a stopped daemon: roll it back */
        daemon_reload(&d); /* a bad file leaves us running, serving status, applying nothing */
        r = sd_event_loop(d.ev);
out:
        control_close(&ctl);
        metrics_close(&d);
        log_flush_repeats(true);
        daemon_free(&d);
        return r < 0 ? 1 : 0;
}
