/* The virt helper: a child process of nestrouterd (`nestrouter-virt --virt-helper`) that owns
 * the libvirt connection. libvirt's API is synchronous RPC, and a call blocks until libvirtd
 * answers or the keepalive gives up (seconds); a stopped or overloaded libvirtd would stall
 * whatever process makes the call. So the daemon never does: it renders the desired domains and
 * plans what they need (the guests' engine: define, autostart, undefine) and sends those ops
 * here over a socketpair; this process probes KVM, connects (reconnecting with backoff),
 * carries the ops out, starts and stops guests on request, follows lifecycle events on its own
 * sd-event loop (virt_event.c) and sends snapshots of every domain back. It decides nothing:
 * what to define or start is the daemon's plan. It exits when the daemon goes away; SIGTERM keeps its
 * default action, so it dies at once even in the middle of an RPC. Guests are never touched by
 * its exit.
 *
 * Cost: a snapshot lists the domains, about four RPCs per domain (state, persistence, live
 * and persistent metadata): milliseconds on the local socket for dozens of guests. One is sent
 * after every op (before its reply, so the daemon plans on the new state), after a lifecycle
 * event (coalesced, 200 ms), a reconnect, and every 60 s.
 *
 * Daemon -> helper:  "cmd ID define NAME\nXML"     the engine's ops; each answered with a
 *                    "cmd ID autostart NAME"       snapshot, then "reply ID RC\nTEXT"
 *                    "cmd ID undefine NAME"
 *                    "cmd ID start NAME"           (nestrouterctl vm start)
 *                    "cmd ID stop NAME TIMEOUT acpi|force"
 *                    "cmd ID reset NAME AUTOSTART\nOVERLAY\nBASE"
 *                    "resync"
 * Helper -> daemon:  "accel kvm|tcg\nWHY", "conn up\nINFO", "conn down\nERROR",
 *                    "busy WHAT", "idle",
 *                    "snap\n" + one line per domain: NAME\tSTATE\tREASON\tOURS\tLIVEHASH\t
 *                    CONFHASH\tPERSISTENT\tACTIVE\tSTARTED (this boot) */
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
#define BACKOFF_MAX_S 30

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
        struct debounce pass;              /* the snapshot pass */
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

/* ---- snapshots --------------------------------------------------------------------------- */

static void send_snapshot(struct helper *h, const struct virt_doms *doms)
{
        struct nr_buf b = {0};
        buf_puts(&b, "snap\n");
        for (size_t i = 0; i < doms->n; i++) {
                const struct virt_dom *d = &doms->v[i];
                if (d->owned && d->active) /* running since this boot: autostart is done */
                        mark_started(h, d->name);
                buf_printf(&b, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\n", d->name,
                           virt_state_name(d->state), virt_reason_name(d->state, d->reason),
                           d->owned ? 1 : 0, d->live_hash, d->conf_hash, d->persistent ? 1 : 0,
                           d->active ? 1 : 0, d->owned && was_started(h, d->name) ? 1 : 0);
        }
        char *s = buf_finish(&b);
        if (s)
                chan_send(&h->ch, s, strlen(s));
        free(s);
}

/* a snapshot pass after `delay`; an earlier pending one wins */
static void schedule(struct helper *h, uint64_t delay)
{
        debounce_schedule(&h->pass, delay);
}

static void snapshot(struct helper *h)
{
        struct virt_doms doms;
        char err[256];
        if (!h->conn)
                return;
        if (virt_list(h->conn, &doms, err, sizeof(err)) < 0) {
                log_warn("virt: listing domains: %s", err);
                return;
        }
        send_snapshot(h, &doms);
        virt_doms_free(&doms);
}

/* ---- ops ---------------------------------------------------------------------------------- */

/* The domain of that name as libvirt has it: 1 found (in *st), 0 none, -1 error (in err). */
static int lookup(struct helper *h, const char *name, struct virt_dom *st, char *err,
                  size_t errlen)
{
        virDomainPtr d = virDomainLookupByName(h->conn, name);
        if (!d)
                return 0;
        int r = virt_dom_read(d, st);
        virDomainFree(d);
        if (r < 0)
                virt_error(err, errlen);
        return r < 0 ? -1 : 1;
}

static int start_guest(struct helper *h, const char *name, const char *why, char *err,
                       size_t errlen)
{
        if (virt_start(h->conn, name, err, errlen) < 0) {
                log_obj(LOG_PRI_WARNING, "vm", name, "virt: %s: start failed: %s", name, err);
                return -1;
        }
        mark_started(h, name);
        log_obj(LOG_PRI_INFO, "vm", name, "virt: %s: started (%s)", name, why);
        return 0;
}

/* define: never over a domain nestrouter does not own (the plan says conflict; this makes sure) */
static int op_define(struct helper *h, const char *name, const char *xml, char *err,
                     size_t errlen)
{
        struct virt_dom st = {0};
        int found = lookup(h, name, &st, err, errlen);
        if (found < 0)
                return -1;
        if (found && !st.owned) {
                snprintf(err, errlen,
                         "a domain named %s exists that nestrouter does not own; left alone", name);
                return -1;
        }
        if (!xml || virt_define(h->conn, xml, err, errlen) < 0) {
                if (!xml)
                        snprintf(err, errlen, "no definition sent");
                log_obj(LOG_PRI_WARNING, "vm", name, "virt: %s: define failed: %s", name, err);
                return -1;
        }
        /* a running guest keeps its definition until it next starts: libvirt stores the new one
         * as the persistent config */
        log_obj(LOG_PRI_INFO, "vm", name, "virt: %s: %s%s", name,
                found ? "definition updated" : "defined",
                found && st.active ? " (applies when the guest next starts)" : "");
        snprintf(err, errlen, "%s: %s", name, found ? "definition updated" : "defined");
        return 0;
}

/* autostart: once per boot, and never when it already runs */
static int op_autostart(struct helper *h, const char *name, char *err, size_t errlen)
{
        struct virt_dom st = {0};
        int found = lookup(h, name, &st, err, errlen);
        if (found <= 0) {
                if (!found)
                        snprintf(err, errlen, "%s is not defined", name);
                return -1;
        }
        if (!st.owned) {
                snprintf(err, errlen, "%s: not a nestrouter guest; left alone", name);
                return -1;
        }
        if (st.active || was_started(h, name)) {
                mark_started(h, name);
                snprintf(err, errlen, "%s: already started this boot", name);
                return 0;
        }
        if (start_guest(h, name, "autostart", err, errlen) < 0)
                return -1;
        snprintf(err, errlen, "%s: started", name);
        return 0;
}

/* undefine: ours and no longer configured; a running guest keeps running (transient) */
static int op_undefine(struct helper *h, const char *name, char *err, size_t errlen)
{
        struct virt_dom st = {0};
        int found = lookup(h, name, &st, err, errlen);
        if (found <= 0) {
                snprintf(err, errlen, "%s: not defined", name);
                return found < 0 ? -1 : 0;
        }
        if (!st.owned) {
                snprintf(err, errlen, "%s: not a nestrouter guest; left alone", name);
                return -1;
        }
        if (virt_undefine(h->conn, name, err, errlen) < 0) {
                log_obj(LOG_PRI_WARNING, "vm", name, "virt: %s: undefine failed: %s", name, err);
                return -1;
        }
        log_obj(LOG_PRI_INFO, "vm", name, "virt: %s: no longer configured: undefined%s", name,
                st.active ? " (keeps running until it stops)" : "");
        snprintf(err, errlen, "%s: undefined", name);
        return 0;
}

static void on_pass(void *userdata)
{
        snapshot(userdata);
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

/* nestrouterctl vm start: the user's, so once-per-boot does not apply */
static void cmd_start(struct helper *h, long id, const char *name)
{
        struct virt_dom st = {0};
        char err[256] = "";
        int found = lookup(h, name, &st, err, sizeof(err));
        if (found <= 0) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: not defined yet%s%s\n", id, name,
                           err[0] ? ": " : "", err);
        } else if (!st.owned) {
                chan_sendf(&h->ch, "reply %ld 1\n%s: not a nestrouter guest; left alone\n", id,
                           name);
        } else if (st.active) {
                mark_started(h, name);
                chan_sendf(&h->ch, "reply %ld 0\n%s: already %s\n", id, name,
                           virt_state_name(st.state));
        } else {
                int r = start_guest(h, name, "nestrouterctl vm start", err, sizeof(err));
                chan_sendf(&h->ch, "reply %ld %d\n%s: %s%s\n", id, r < 0 ? 1 : 0, name,
                           r < 0 ? "start failed: " : "started", r < 0 ? err : "");
        }
        schedule(h, 0);
}

/* vm reset: the guest is destroyed (its disk is about to be discarded: nothing to shut down
 * cleanly for), its overlay recreated from the base, and started again when autostarted */
static void cmd_reset(struct helper *h, long id, const char *name, bool autostart, char *body)
{
        char note[600] = "", err[300] = "";
        char *overlay = body, *base = body ? strchr(body, '\n') : NULL;
        if (!base) {
                chan_sendf(&h->ch, "reply %ld 2\nmalformed reset\n", id);
                return;
        }
        *base++ = '\0';
        base[strcspn(base, "\n")] = '\0';
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
        if (!autostart) {
                chan_sendf(&h->ch, "reply %ld 0\n%s: reset to %s%s\n", id, name, base,
                           st.active ? " (it was running: destroyed)" : "");
        } else {
                int r = start_guest(h, name, "nestrouterctl vm reset", err, sizeof(err));
                chan_sendf(&h->ch, "reply %ld %d\n%s: reset to %s; %s%s\n", id, r < 0 ? 1 : 0,
                           name, base, r < 0 ? "start failed: " : "started", r < 0 ? err : "");
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
        if (!strcmp(verb, "define") || !strcmp(verb, "autostart") || !strcmp(verb, "undefine")) {
                char msg[600] = "";
                int r = !strcmp(verb, "define")      ? op_define(h, name, body, msg, sizeof(msg))
                        : !strcmp(verb, "autostart") ? op_autostart(h, name, msg, sizeof(msg))
                                                     : op_undefine(h, name, msg, sizeof(msg));
                snapshot(h); /* before the reply: the daemon's next plan sees the result */
                chan_sendf(&h->ch, "reply %ld %d\n%s\n", id, r < 0 ? 1 : 0, msg);
        } else if (!strcmp(verb, "start"))
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
        (void)len;
        if (body)
                *body++ = '\0';
        if (!strncmp(msg, "cmd ", 4))
                on_cmd(h, msg + 4, body);
        else if (!strcmp(msg, "resync"))
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
        chan_close(&h.ch);
        debounce_free(&h.pass);
        return 0;
}
