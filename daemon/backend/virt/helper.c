/* The virt helper: a child process of nestrouterd (`nestrouter-virt --virt-helper`) that owns
 * the libvirt connection. libvirt's API is synchronous RPC, and a call blocks until libvirtd
 * answers or the keepalive gives up (seconds); a stopped or overloaded libvirtd would stall
 * whatever process makes the call. So the daemon never does: it renders the desired domains and
 * sends them here over a socketpair; this process probes KVM, connects (reconnecting with
 * backoff), defines, starts and stops guests, follows lifecycle events on its own sd-event loop
 * (virt_event.c) and sends snapshots back. It exits when the daemon goes away; SIGTERM keeps its
 * default action, so it dies at once even in the middle of an RPC. Guests are never touched by
 * its exit.
 *
 * Cost: a pass lists the domains twice (before and after its changes), about four RPCs per
 * domain (state, persistence, live and persistent metadata), plus one per define/start/
 * undefine: milliseconds on the local socket for dozens of guests. A pass runs after a new
 * desired set, a lifecycle event (coalesced, 200 ms), a command, a reconnect, and every 60 s.
 *
 * Daemon -> helper:  "want N\n" + N x ("NAME AUTOSTART HASH LEN\n" + LEN bytes of XML)
 *                    "hold"                        no more autostarts (host shutting down)
 *                    "cmd ID start NAME"           reply "reply ID RC\nTEXT"
 *                    "cmd ID stop NAME TIMEOUT acpi|force"
 *                    "cmd ID reset NAME AUTOSTART\nOVERLAY\nBASE"
 *                    "resync"
 * Helper -> daemon:  "accel kvm|tcg\nWHY", "conn up\nINFO", "conn down\nERROR",
 *                    "busy WHAT", "idle",
 *                    "snap\n" + lines NAME\tSTATE\tREASON\tOWNED\tLIVEHASH\tCONFHASH\tERROR */
#include "backend/virt/virt.h"

#include <errno.h>
#include <getopt.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "backend/virt/chan.h"
#include "core/lib/strbuf.h"
#include "backend/virt/kvm_probe.h"
#include "lib/debounce.h"
#include "lib/log.h"
#include "backend/virt/shutdown.h"
#include "backend/virt/blank.h"
#include "backend/virt/virt_dom.h"
#include "backend/virt/virt_event.h"

#define RESYNC_USEC (60ull * 1000000)
#define RETRY_START_USEC (30ull * 1000000)
#define BACKOFF_MAX_S 30

struct want {
        char name[NR_NAME_MAX];
        bool autostart;
        char hash[17];
        char *xml;
        char err[256];             /* last define/start failure */
        uint64_t retry_usec;       /* no automatic start before this */
};

struct job {
        struct job *next;
        struct helper *h;
        long id;
        struct virt_shutdown sd;
};

struct helper {
        sd_event *ev;
        struct chan ch;
        const char *uri, *run_dir;
        virConnectPtr conn;
        int life_cb;
        unsigned backoff_s;
        sd_event_source *reconnect, *lost; /* created once, armed when needed */
        sd_event_source *resync;
        struct debounce pass;              /* the reconcile pass */
        struct want *w;
        size_t n_w;
        bool have_want, hold;
        struct job *jobs;
};

/* ---- guests started this boot (the run dir is per boot) -------------------------------- */

static void started_path(const struct helper *h, char *buf, size_t size)
{
        snprintf(buf, size, "%s/guests-started", h->run_dir);
}

static bool was_started(const struct helper *h, const char *name)
{
        char path[4200], line[NR_NAME_MAX + 2];
        bool found = false;
        started_path(h, path, sizeof(path));
        FILE *f = fopen(path, "re");
        while (f && !found && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                found = !strcmp(line, name);
        }
        if (f)
                fclose(f);
        return found;
}

static void mark_started(const struct helper *h, const char *name)
{
        char path[4200];
        if (was_started(h, name))
                return;
        started_path(h, path, sizeof(path));
        FILE *f = fopen(path, "ae");
        if (f) {
                fprintf(f, "%s\n", name);
                fclose(f);
        }
}

/* ---- reconcile --------------------------------------------------------------------------- */

static void send_snapshot(struct helper *h, const struct virt_doms *doms)
{
        struct nr_buf b = {0};
        buf_puts(&b, "snap\n");
        for (size_t i = 0; i < h->n_w; i++) {
                const struct virt_dom *d = virt_find(doms, h->w[i].name);
                buf_printf(&b, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", h->w[i].name,
                           d ? virt_state_name(d->state) : "undefined",
                           d ? virt_reason_name(d->state, d->reason) : "",
                           d ? (d->owned ? 1 : 0) : 1, d ? d->live_hash : "",
                           d ? d->conf_hash : "", h->w[i].err);
        }
        for (size_t i = 0; i < doms->n; i++) { /* ours, no longer configured, still running */
                const struct virt_dom *d = &doms->v[i];
                bool wanted = false;
                for (size_t k = 0; k < h->n_w; k++)
                        wanted |= !strcmp(h->w[k].name, d->name);
                if (d->owned && !wanted)
                        buf_printf(&b, "%s\t%s\t%s\t2\t%s\t%s\t\n", d->name,
                                   virt_state_name(d->state), virt_reason_name(d->state, d->reason),
                                   d->live_hash, d->conf_hash);
        }
        char *s = buf_finish(&b);
        if (s)
                chan_send(&h->ch, s, strlen(s));
        free(s);
}

/* a reconcile pass after `delay`; an earlier pending one wins */
static void schedule(struct helper *h, uint64_t delay)
{
        debounce_schedule(&h->pass, delay);
}

static void start_guest(struct helper *h, struct want *w, const char *why)
{
        if (virt_start(h->conn, w->name, w->err, sizeof(w->err)) < 0) {
                log_obj(LOG_PRI_WARNING, "vm", w->name,
                        "virt: %s: start failed: %s (retrying in %llu s)", w->name, w->err,
                        RETRY_START_USEC / 1000000);
                w->retry_usec = now_usec() + RETRY_START_USEC;
                schedule(h, RETRY_START_USEC);
                return;
        }
        w->err[0] = '\0';
        mark_started(h, w->name);
        log_obj(LOG_PRI_INFO, "vm", w->name, "virt: %s: started (%s)", w->name, why);
}

/* Autostart means: once per boot. A guest stopped later (by `vm stop`, from inside, or at host
 * shutdown) stays stopped until `nestrouterctl vm start` or the next boot. */
static bool may_autostart(struct helper *h, const struct want *w)
{
        return w->autostart && !h->hold && now_usec() >= w->retry_usec &&
               !was_started(h, w->name);
}

static void reconcile_one(struct helper *h, struct want *w, const struct virt_dom *d)
{
        if (d && !d->owned) {
                snprintf(w->err, sizeof(w->err),
                         "a domain named %s exists that nestrouter does not own; left alone",
                         w->name);
                return;
        }
        if (!d || !d->persistent || strcmp(d->conf_hash, w->hash)) {
                /* a running guest keeps its definition until it next starts: libvirt stores the
                 * new one as the persistent config */
                char before[sizeof(w->err)];
                memcpy(before, w->err, sizeof(before));
                if (virt_define(h->conn, w->xml, w->err, sizeof(w->err)) < 0) {
                        if (strcmp(before, w->err)) /* every pass retries; log it once */
                                log_obj(LOG_PRI_WARNING, "vm", w->name,
                                        "virt: %s: define failed: %s", w->name, w->err);
                        return;
                }
                w->err[0] = '\0';
                log_obj(LOG_PRI_INFO, "vm", w->name,
                        "virt: %s: %s%s", w->name, d ? "definition updated" : "defined",
                        d && d->active ? " (applies when the guest next starts)" : "");
        }
        if (d && d->active)
                mark_started(h, w->name);
        else if (may_autostart(h, w))
                start_guest(h, w, "autostart");
}

static void reconcile(struct helper *h)
{
        struct virt_doms doms;
        char err[256];
        if (!h->conn || !h->have_want)
                return;
        chan_sendf(&h->ch, "busy reconcile");
        if (virt_list(h->conn, &doms, err, sizeof(err)) < 0) {
                log_warn("virt: listing domains: %s", err);
                chan_sendf(&h->ch, "idle");
                return;
        }
        for (size_t i = 0; i < h->n_w; i++)
                reconcile_one(h, &h->w[i], virt_find(&doms, h->w[i].name));
        for (size_t i = 0; i < doms.n; i++) {
                const struct virt_dom *d = &doms.v[i];
                bool wanted = false;
                for (size_t k = 0; k < h->n_w; k++)
                        wanted |= !strcmp(h->w[k].name, d->name);
                /* removed from the config: the definition goes; a running guest keeps running
                 * (transient) until it stops */
                if (d->owned && !wanted && d->persistent) {
                        if (virt_undefine(h->conn, d->name, err, sizeof(err)) < 0)
                                log_obj(LOG_PRI_WARNING, "vm", d->name,
                                        "virt: %s: undefine failed: %s", d->name, err);
                        else
                                log_obj(LOG_PRI_INFO, "vm", d->name,
                                        "virt: %s: no longer configured: undefined%s", d->name,
                                        d->active ? " (keeps running until it stops)" : "");
                }
        }
        virt_doms_free(&doms);
        if (virt_list(h->conn, &doms, err, sizeof(err)) == 0) {
                send_snapshot(h, &doms);
                virt_doms_free(&doms);
        }
        chan_sendf(&h->ch, "idle");
}

static void on_pass(void *userdata)
{
        reconcile(userdata);
}

static int on_resync(sd_event_source *s, uint64_t usec, void *userdata)
{
        sd_event_source_set_time(s, usec + RESYNC_USEC);
        schedule(userdata, 0);
        return 0;
}

/* ---- the connection ---------------------------------------------------------------------- */

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
        struct helper *h = opaque;
        (void)c;
        /* RESUMED/SUSPENDED come with every start as well; the rest is worth a line */
        if (event == VIR_DOMAIN_EVENT_STOPPED)
                log_obj(LOG_PRI_INFO, "vm", virDomainGetName(d),
                        "virt: %s: event stopped (%s)", virDomainGetName(d),
                        virt_stopped_detail_name(detail));
        else if (event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_CRASHED)
                log_obj(LOG_PRI_INFO, "vm", virDomainGetName(d),
                        "virt: %s: event %s", virDomainGetName(d), virt_event_name(event));
        schedule(h, 200000); /* a burst of events: one pass */
        return 0;
}

/* h->reconnect fires after a growing delay (1 s doubling to 30 s) */
static void retry_later(struct helper *h)
{
        uint64_t now;
        h->backoff_s = h->backoff_s ? h->backoff_s * 2 : 1;
        if (h->backoff_s > BACKOFF_MAX_S)
                h->backoff_s = BACKOFF_MAX_S;
        sd_event_now(h->ev, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(h->reconnect, now + (uint64_t)h->backoff_s * 1000000);
        sd_event_source_set_enabled(h->reconnect, SD_EVENT_ONESHOT);
}

static void fail_jobs(struct helper *h, const char *why)
{
        while (h->jobs) {
                struct job *j = h->jobs;
                h->jobs = j->next;
                chan_sendf(&h->ch, "reply %ld 1\n%s\n", j->id, why);
                virt_shutdown_free(&j->sd);
                free(j);
        }
}

static void drop_conn(struct helper *h)
{
        virConnectPtr c = h->conn;
        if (!c)
                return;
        fail_jobs(h, "the connection to libvirt was lost");
        if (h->life_cb >= 0)
                virConnectDomainEventDeregisterAny(c, h->life_cb);
        h->life_cb = -1;
        h->conn = NULL; /* first: the close callback then knows this close is ours */
        virConnectClose(c);
        virResetLastError();
}

static void on_conn_close(virConnectPtr c, int reason, void *opaque)
{
        struct helper *h = opaque;
        static const char *const why[] = {"error", "end of file", "keepalive timeout",
                                          "client closed"};
        if (c != h->conn)
                return;
        const char *r = reason >= 0 && reason < 4 ? why[reason] : "closed";
        log_obj(LOG_PRI_WARNING, "libvirt", h->uri,
                "virt: connection to %s lost (%s); reconnecting", h->uri, r);
        chan_sendf(&h->ch, "conn down\nconnection lost (%s)", r);
        /* not from inside libvirt's callback: close and reconnect from the loop (h->lost) */
        sd_event_source_set_enabled(h->lost, SD_EVENT_ONESHOT);
}

static void connect_now(struct helper *h)
{
        char err[256];
        chan_sendf(&h->ch, "busy connecting to %s", h->uri);
        h->conn = virConnectOpen(h->uri);
        if (!h->conn) {
                virt_error(err, sizeof(err));
                log_obj(LOG_PRI_WARNING, "libvirt", h->uri,
                        "virt: cannot connect to %s: %s (retrying)", h->uri, err);
                chan_sendf(&h->ch, "conn down\n%s", err);
                chan_sendf(&h->ch, "idle");
                retry_later(h);
                return;
        }
        h->backoff_s = 0;
        /* a dead libvirtd is noticed after ~20 s of silence instead of never (drivers without
         * keepalive, like test:///, refuse: fine) */
        if (virConnectSetKeepAlive(h->conn, 5, 3) < 0)
                virResetLastError();
        if (virConnectRegisterCloseCallback(h->conn, on_conn_close, h, NULL) < 0)
                virResetLastError();
        h->life_cb = virConnectDomainEventRegisterAny(h->conn, NULL,
                                                      VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                                                      h, NULL);
        unsigned long ver = 0;
        virConnectGetLibVersion(h->conn, &ver);
        log_info("virt: connected to %s (libvirt %lu.%lu.%lu)", h->uri, ver / 1000000,
                 ver / 1000 % 1000, ver % 1000);
        chan_sendf(&h->ch, "conn up\nlibvirt %lu.%lu.%lu", ver / 1000000, ver / 1000 % 1000,
                   ver % 1000);
        chan_sendf(&h->ch, "idle");
        schedule(h, 0);
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s, (void)usec;
        connect_now(userdata);
        return 0;
}

static int on_lost(sd_event_source *s, void *userdata)
{
        struct helper *h = userdata;
        (void)s;
        drop_conn(h);
        retry_later(h);
        return 0;
}

/* ---- messages from the daemon ------------------------------------------------------------- */

static void free_wants(struct helper *h)
{
        for (size_t i = 0; i < h->n_w; i++)
                free(h->w[i].xml);
        free(h->w);
        h->w = NULL;
        h->n_w = 0;
}

/* "want N\n" then N records "NAME AUTOSTART HASH LEN\n<LEN bytes>"; errors of the old set for
 * the same guest carry over, so a retry backoff survives a resend */
static void on_want(struct helper *h, char *body, size_t n)
{
        struct want *w = calloc(n + 1, sizeof(*w));
        size_t k = 0;
        for (; w && k < n; k++) {
                int autostart = 0, used = 0;
                size_t len = 0;
                if (sscanf(body, "%63s %d %16s %zu\n%n", w[k].name, &autostart, w[k].hash, &len,
                           &used) < 4 || !used || strlen(body + used) < len)
                        break;
                w[k].autostart = autostart;
                w[k].xml = strndup(body + used, len);
                body += used + len;
                for (size_t o = 0; o < h->n_w; o++)
                        if (!strcmp(h->w[o].name, w[k].name)) {
                                w[k].retry_usec = h->w[o].retry_usec;
                                memcpy(w[k].err, h->w[o].err, sizeof(w[k].err));
                        }
        }
        if (!w || k != n) {
                log_err("virt: malformed desired set from nestrouterd (record %zu)", k);
                for (size_t i = 0; w && i < k; i++)
                        free(w[i].xml);
                free(w);
                return;
        }
        free_wants(h);
        h->w = w;
        h->n_w = n;
        h->have_want = true;
        schedule(h, 0);
}

static void job_done(struct virt_shutdown *sd, void *userdata)
{
        struct job *j = userdata, **pp;
        struct helper *h = j->h;
        struct nr_buf b = {0};
        (void)sd;
        virt_shutdown_report(&j->sd, &b);
        bool ok = virt_shutdown_count(&j->sd, VIRT_SD_FORCED) == 0 &&
                  virt_shutdown_count(&j->sd, VIRT_SD_FAILED) == 0;
        char *s = buf_finish(&b);
        chan_sendf(&h->ch, "reply %ld %d\n%s", j->id, ok ? 0 : 1, s ? s : "");
        free(s);
        for (pp = &h->jobs; *pp && *pp != j; pp = &(*pp)->next)
                ;
        if (*pp)
                *pp = j->next;
        virt_shutdown_free(&j->sd);
        free(j);
        schedule(h, 0);
}

static void cmd_stop(struct helper *h, long id, char *name, unsigned timeout, bool force)
{
        struct job *j = calloc(1, sizeof(*j));
        if (!j) {
                chan_sendf(&h->ch, "reply %ld 1\nout of memory\n", id);
                return;
        }
        j->h = h;
        j->id = id;
        log_obj(LOG_PRI_INFO, "vm", name,
                "virt: %s: %s requested", name, force ? "destroy" : "ACPI shutdown");
        if (virt_shutdown_start(&j->sd, h->conn, h->ev, &name, 1, timeout, force, job_done, j) <
            0) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: cannot start the shutdown\n", id, name);
                virt_shutdown_free(&j->sd);
                free(j);
                return;
        }
        j->next = h->jobs;
        h->jobs = j;
}

static void cmd_start(struct helper *h, long id, const char *name)
{
        struct want *w = NULL;
        virDomainPtr d;
        for (size_t i = 0; i < h->n_w; i++)
                if (!strcmp(h->w[i].name, name))
                        w = &h->w[i];
        struct virt_dom st;
        if (!w || !(d = virDomainLookupByName(h->conn, name))) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: not defined yet%s%s\n", id, name,
                           w && w->err[0] ? ": " : "", w ? w->err : "");
                return;
        }
        int r = virt_dom_read(d, &st);
        virDomainFree(d);
        if (r == 0 && !st.owned) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: not a nestrouter guest; left alone\n", id,
                           name);
        } else if (r == 0 && st.active) {
                mark_started(h, name);
                chan_sendf(&h->ch, "reply %ld 0\n%s: already %s\n", id, name,
                           virt_state_name(st.state));
        } else {
                w->retry_usec = 0;
                start_guest(h, w, "nestrouterctl vm start");
                chan_sendf(&h->ch, "reply %ld %d\n%s: %s%s\n", id, w->err[0] ? 1 : 0, name,
                           w->err[0] ? "start failed: " : "started", w->err);
        }
        schedule(h, 0);
}

/* vm reset: the guest is destroyed (its disk is about to be discarded: nothing to shut down
 * cleanly for), its overlay recreated from the base, and started again when autostarted */
static void cmd_reset(struct helper *h, long id, const char *name, bool autostart, char *body)
{
        char note[600] = "", err[300] = "";
        char *overlay = body, *base = body ? strchr(body, '\n') : NULL;
        struct want *w = NULL;
        if (!base) {
                chan_sendf(&h->ch, "reply %ld 2\nmalformed reset\n", id);
                return;
        }
        *base++ = '\0';
        base[strcspn(base, "\n")] = '\0';
        for (size_t i = 0; i < h->n_w; i++)
                if (!strcmp(h->w[i].name, name))
                        w = &h->w[i];
        virDomainPtr d = virDomainLookupByName(h->conn, name);
        struct virt_dom st = {0};
        if (d && virt_dom_read(d, &st) == 0 && st.owned && st.active &&
            virt_destroy_dom(d, err, sizeof(err)) < 0) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: cannot stop it: %s\n", id, name, err);
                virDomainFree(d);
                return;
        }
        if (d)
                virDomainFree(d);
        if (d && !st.owned) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: not a nestrouter guest; left alone\n", id,
                           name);
                return;
        }
        if (virt_overlay_disk(overlay, base, true, note, sizeof(note)) < 0) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: %s\n", id, name, note);
                return;
        }
        log_obj(LOG_PRI_INFO, "vm", name, "virt: %s: reset: %s is a fresh overlay of %s", name,
                overlay, base);
        if (!autostart || !w) {
                chan_sendf(&h->ch, "reply %ld 0\n%s: reset to %s%s\n", id, name, base,
                           st.active ? " (it was running: destroyed)" : "");
        } else {
                w->retry_usec = 0;
                start_guest(h, w, "nestrouterctl vm reset");
                chan_sendf(&h->ch, "reply %ld %d\n%s: reset to %s; %s%s\n", id,
                           w->err[0] ? 1 : 0, name, base,
                           w->err[0] ? "start failed: " : "started", w->err);
        }
        schedule(h, 0);
}

static void on_cmd(struct helper *h, const char *args, char *body)
{
        long id;
        char verb[16], name[NR_NAME_MAX], mode[16] = "acpi";
        unsigned timeout = 0;
        int n = sscanf(args, "%ld %15s %63s %u %15s", &id, verb, name, &timeout, mode);
        if (n < 3) {
                log_err("virt: malformed command '%s'", args);
                return;
        }
        if (!h->conn) {
                chan_sendf(&h->ch, "reply %ld 1\nnot connected to libvirt (%s)\n", id, h->uri);
                return;
        }
        chan_sendf(&h->ch, "busy %s %s", verb, name);
        if (!strcmp(verb, "start"))
                cmd_start(h, id, name);
        else if (!strcmp(verb, "stop") && n >= 4)
                cmd_stop(h, id, name, timeout, !strcmp(mode, "force"));
        else if (!strcmp(verb, "reset") && n >= 4)
                cmd_reset(h, id, name, timeout != 0, body);
        else
                chan_sendf(&h->ch, "reply %ld 2\nunknown command %s\n", id, verb);
        chan_sendf(&h->ch, "idle");
}

static void on_msg(char *msg, size_t len, void *userdata)
{
        struct helper *h = userdata;
        char *body = strchr(msg, '\n');
        unsigned long n;
        (void)len;
        if (body)
                *body++ = '\0';
        if (sscanf(msg, "want %lu", &n) == 1)
                on_want(h, body ? body : (char *)"", n);
        else if (!strncmp(msg, "cmd ", 4))
                on_cmd(h, msg + 4, body);
        else if (!strcmp(msg, "hold")) {
                if (!h->hold)
                        log_info("virt: guests shutdown: no more automatic guest starts");
                h->hold = true;
        } else if (!strcmp(msg, "resync"))
                schedule(h, 0);
        else
                log_err("virt: unknown message '%s' from nestrouterd", msg);
}

static void on_daemon_gone(void *userdata)
{
        struct helper *h = userdata;
        sd_event_exit(h->ev, 0);
}

/* ---- entry point -------------------------------------------------------------------------- */

static void probe_accel(struct helper *h, enum nr_accel mode)
{
        char why[512], cache[4200];
        if (mode == NR_ACCEL_TCG) {
                chan_sendf(&h->ch, "accel tcg\nlibvirt.accel is tcg");
                log_info("virt: guests run under TCG (libvirt.accel: tcg)");
                return;
        }
        snprintf(cache, sizeof(cache), "%s/kvm-probe", h->run_dir);
        bool works = kvm_probe_cached(cache, getenv("NR_KVM_DEV") ? getenv("NR_KVM_DEV") : "/dev/kvm",
                                      KVM_PROBE_TIMEOUT_MS, why, sizeof(why));
        bool kvm = works || mode == NR_ACCEL_KVM;
        if (!works && mode == NR_ACCEL_KVM)
                log_warn("virt: libvirt.accel is kvm, but %s", why);
        else if (kvm)
                log_info("virt: guests run under KVM: %s", why);
        else
                log_notice("virt: guests run under TCG (software emulation, slow): %s", why);
        chan_sendf(&h->ch, "accel %s\n%s", kvm ? "kvm" : "tcg", why);
}

int virt_helper_main(int argc, char **argv)
{
        static const struct option lo[] = {
                {"fd", required_argument, NULL, 'f'},  {"uri", required_argument, NULL, 'u'},
                {"accel", required_argument, NULL, 'a'}, {"run-dir", required_argument, NULL, 'r'},
                {0},
        };
        struct helper h = {.life_cb = -1};
        enum nr_accel mode = NR_ACCEL_AUTO;
        int fd = -1, c;
        while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
                switch (c) {
                case 'f': fd = atoi(optarg); break;
                case 'u': h.uri = optarg; break;
                case 'a': mode = !strcmp(optarg, "kvm") ? NR_ACCEL_KVM
                               : !strcmp(optarg, "tcg") ? NR_ACCEL_TCG : NR_ACCEL_AUTO; break;
                case 'r': h.run_dir = optarg; break;
                default: return 2;
                }
        }
        if (fd < 0 || !h.uri || !h.run_dir)
                return 2;
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
                return 0;
        signal(SIGPIPE, SIG_IGN);
        if (sd_event_new(&h.ev) < 0 ||
            chan_open(&h.ch, h.ev, fd, on_msg, on_daemon_gone, &h) < 0)
                return 1;
        probe_accel(&h, mode);
        virt_event_register(h.ev);
        virt_quiet_errors();
        debounce_init(&h.pass, h.ev, on_pass, &h);
        uint64_t now;
        sd_event_now(h.ev, CLOCK_MONOTONIC, &now);
        if (sd_event_add_time(h.ev, &h.resync, CLOCK_MONOTONIC, now + RESYNC_USEC, 1000000,
                              on_resync, &h) < 0 ||
            sd_event_add_time(h.ev, &h.reconnect, CLOCK_MONOTONIC, 0, 100000, on_reconnect,
                              &h) < 0 ||
            sd_event_add_defer(h.ev, &h.lost, on_lost, &h) < 0)
                return 1;
        sd_event_source_set_enabled(h.resync, SD_EVENT_ON);
        sd_event_source_set_enabled(h.reconnect, SD_EVENT_OFF);
        sd_event_source_set_enabled(h.lost, SD_EVENT_OFF);
        connect_now(&h);
        sd_event_loop(h.ev);
        drop_conn(&h); /* the guests keep running: closing a connection never stops them */
        free_wants(&h);
        chan_close(&h.ch);
        debounce_free(&h.pass);
        return 0;
}
