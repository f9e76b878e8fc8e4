/* Guests, daemon side: the helper's supervision (spawned when the config has VMs, restarted with
 * backoff when it dies or when libvirt.uri/accel change), its messages, disk imports, and the
 * guest pass that renders the domains and sends them when they changed. Nothing here blocks on
 * libvirt. */
#include "backend/virt/virt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "core/model/guest_resources.h"
#include "core/model/model.h"
#include "backend/virt/blank.h"
#include "backend/virt/seed.h"
#include "lib/fileio.h"
#include "lib/log.h"
#include "helper/path.h"

/* the first restart is immediate; then 1 s, 2 s, ... up to 30 s. SIGTERM kills the helper at
 * once (its default action, even inside an RPC): the grace is for a stopped (SIGSTOP) one. */
static const struct sup_policy helper_policy = {
        .first_usec = 1000000,
        .max_usec = 30ull * 1000000,
        .stable_usec = 30ull * 1000000,
        .grace_usec = 2ull * 1000000,
};

const struct nr_vm *virtb_vm(const struct virtb *b, const char *name)
{
        for (size_t i = 0; b->cfg && i < b->cfg->n_vms; i++)
                if (!strcmp(b->cfg->vms[i].name, name))
                        return &b->cfg->vms[i];
        return NULL;
}

const struct virt_snap *virtb_snap(const struct virtb *b, const char *name)
{
        for (size_t i = 0; i < b->n_snap; i++)
                if (!strcmp(b->snap[i].name, name) && b->snap[i].owned >= 0)
                        return &b->snap[i];
        return NULL;
}

/* What each reported domain is to this configuration (virt_snap.owned). */
static void snap_classify(struct virtb *b)
{
        for (size_t i = 0; i < b->n_snap; i++) {
                struct virt_snap *s = &b->snap[i];
                bool configured = virtb_vm(b, s->name) != NULL;
                s->owned = s->ours ? (configured ? 1 : 2) : (configured ? 0 : -1);
        }
}

/* ---- messages from the helper ------------------------------------------------------------ */

/* "snap\n" + one line per domain: NAME STATE REASON OURS LIVEHASH CONFHASH PERSISTENT ACTIVE
 * STARTED, tab-separated */
static void on_snapshot(struct virtb *b, char *body)
{
        size_t n = 0;
        for (const char *p = body; *p; p++)
                n += *p == '\n';
        struct virt_snap *v = calloc(n + 1, sizeof(*v));
        if (!v)
                return;
        size_t k = 0;
        for (char *line = strtok(body, "\n"); line && k < n; line = strtok(NULL, "\n")) {
                char *f[9] = {0};
                int nf = 0;
                for (char *p = line; nf < 9; nf++) {
                        f[nf] = p;
                        p = strchr(p, '\t');
                        if (!p)
                                break;
                        *p++ = '\0';
                }
                if (nf < 8)
                        continue;
                struct virt_snap *s = &v[k++];
                snprintf(s->name, sizeof(s->name), "%s", f[0]);
                snprintf(s->state, sizeof(s->state), "%s", f[1]);
                snprintf(s->reason, sizeof(s->reason), "%s", f[2]);
                s->ours = atoi(f[3]) == 1;
                snprintf(s->live, sizeof(s->live), "%s", f[4]);
                snprintf(s->conf, sizeof(s->conf), "%s", f[5]);
                s->persistent = atoi(f[6]) == 1;
                s->active = atoi(f[7]) == 1;
                s->started = atoi(f[8]) == 1;
        }
        free(b->snap);
        b->snap = v;
        b->n_snap = k;
        b->have_snap = true;
        snap_classify(b);
}

struct virt_cmd {
        struct virt_cmd *next;
        struct virtb *b;
        long id;
        int fd;                    /* a client's (a vm command), or -1: an engine op */
        struct nr_op op;           /* the engine op, when fd is -1 */
        unsigned timeout_s;
        sd_event_source *timeout;
};

static void cmd_reply(struct virt_cmd *c, int code, const char *body)
{
        char head[32];
        if (c->fd < 0) { /* the engine's op: it counts, logs and backs off */
                struct virtb *b = c->b;
                char err[256];
                snprintf(err, sizeof(err), "%s", body ? body : "");
                err[strcspn(err, "\n")] = '\0';
                engine_complete(&b->eng, &c->op, code == 0 ? 0 : -EIO, err);
                sd_event_source_disable_unref(c->timeout);
                free(c);
                virtb_schedule(b, 0);
                return;
        }
        snprintf(head, sizeof(head), "exit %d\n", code);
        /* the control socket has a 1 s send timeout: a vanished client costs at most that */
        if (write(c->fd, head, strlen(head)) > 0 && body && *body &&
            write(c->fd, body, strlen(body)) < 0) {
                /* the client went away: nothing to tell it */
        }
        close(c->fd);
        sd_event_source_disable_unref(c->timeout);
        free(c);
}

static struct virt_cmd *cmd_take(struct virtb *b, long id)
{
        for (struct virt_cmd **pp = &b->cmds; *pp; pp = &(*pp)->next)
                if ((*pp)->id == id) {
                        struct virt_cmd *c = *pp;
                        *pp = c->next;
                        return c;
                }
        return NULL;
}

void virtb_cmds_close(struct virtb *b, const char *why)
{
        while (b->cmds) {
                struct virt_cmd *c = b->cmds;
                b->cmds = c->next;
                cmd_reply(c, 1, why);
        }
}

static void on_reply(struct virtb *b, const char *head, const char *body)
{
        long id;
        int rc;
        if (sscanf(head, "reply %ld %d", &id, &rc) != 2)
                return;
        struct virt_cmd *c = cmd_take(b, id);
        if (c)
                cmd_reply(c, rc, body);
}

static void on_msg(char *msg, size_t len, void *userdata)
{
        struct virtb *b = userdata;
        char *body = strchr(msg, '\n');
        (void)len;
        if (body)
                *body++ = '\0';
        else
                body = msg + strlen(msg);
        if (!strncmp(msg, "accel ", 6)) {
                b->accel_known = true;
                b->accel = !strcmp(msg + 6, "kvm") ? NR_ACCEL_KVM : NR_ACCEL_TCG;
                snprintf(b->accel_why, sizeof(b->accel_why), "%s", body);
                virtb_schedule(b, 0);
        } else if (!strcmp(msg, "conn up") || !strcmp(msg, "conn down")) {
                b->connected = !strcmp(msg, "conn up");
                snprintf(b->conn_msg, sizeof(b->conn_msg), "%s", body);
        } else if (!strncmp(msg, "busy ", 5)) {
                snprintf(b->busy, sizeof(b->busy), "%s", msg + 5);
                b->busy_since = now_usec();
        } else if (!strcmp(msg, "idle")) {
                b->busy[0] = '\0';
        } else if (!strcmp(msg, "snap")) {
                on_snapshot(b, body);
                virtb_schedule(b, 0); /* a guest that stopped may have a disk to grow */
        } else if (!strncmp(msg, "reply ", 6)) {
                on_reply(b, msg, body);
        } else {
                log_warn("virt: unknown message '%s' from the helper", msg);
        }
}

/* ---- the helper process ------------------------------------------------------------------ */

static void helper_forget(struct virtb *b)
{
        chan_close(&b->ch);
        b->connected = false;
        snprintf(b->conn_msg, sizeof(b->conn_msg), "the virt helper is not running");
        b->busy[0] = '\0';
        b->have_snap = false; /* nothing is known until the next helper reports */
        virtb_cmds_close(b, "the virt helper stopped before it answered\n");
}

static void on_helper_lost(void *userdata)
{
        struct virtb *b = userdata;
        /* it cannot talk to us anymore: a failure (backoff), reaped by the supervisor */
        sup_kill(&b->helper, SIGTERM);
}

static void on_helper_exit(struct sup *s, const struct sup_exit *e, void *userdata)
{
        struct virtb *b = userdata;
        uint64_t now = now_usec();
        (void)e;
        helper_forget(b);
        /* asked for (libvirt settings changed): the next pass starts it at once */
        virtb_schedule(b, s->not_before_usec > now ? s->not_before_usec - now : 0);
}

struct helper_args {
        const char *path, *uri, *run_dir;
        int fd;
        enum nr_accel accel;
};

static void helper_exec(void *arg)
{
        const struct helper_args *a = arg;
        /* the socket becomes fd 3 (without O_CLOEXEC); nothing else of the daemon's leaks */
        int nfd = fcntl(a->fd, F_DUPFD, 3);
        if (nfd < 0 || (nfd != 3 && dup2(nfd, 3) < 0))
                _exit(127);
        close_range(4, ~0u, 0);
        execl(a->path, NR_HELPER_NAME, "--virt-helper", "--fd", "3", "--uri", a->uri, "--accel",
              cfg_accel_name(a->accel), "--run-dir", a->run_dir, (char *)NULL);
        fprintf(stderr, "<3>virt: exec %s: %s\n", a->path, strerror(errno));
}

static int helper_spawn(struct virtb *b)
{
        int sv[2], r;
        char path[4200];
        const struct nr_libvirt *lv = &b->cfg->libvirt;
        if (nr_helper_path(path, sizeof(path)) < 0)
                log_warn("virt: no executable %s next to nestrouterd nor in /usr/libexec/nestrouter",
                         NR_HELPER_NAME); /* the exec below fails and says so; backoff follows */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        struct helper_args a = {.path = path, .uri = lv->uri, .run_dir = b->run_dir,
                                .fd = sv[1], .accel = lv->accel};
        pid_t pid = sup_start(&b->helper, helper_exec, &a);
        close(sv[1]);
        if (pid < 0) {
                close(sv[0]);
                return pid;
        }
        snprintf(b->uri, sizeof(b->uri), "%s", lv->uri);
        b->accel_mode = lv->accel;
        if ((r = chan_open(&b->ch, b->ev, sv[0], on_msg, on_helper_lost, b)) < 0) {
                sup_stop(&b->helper); /* chan_open closed sv[0]; the exit callback follows */
                return r;
        }
        snprintf(b->conn_msg, sizeof(b->conn_msg), "connecting");
        log_info("virt: helper started (pid %d) for %s", (int)pid, lv->uri);
        return 0;
}

/* ---- disks ------------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void note(struct virt_guest *g, const char *fmt,
                                                       ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->note, sizeof(g->note), fmt, ap); /* long paths are cut, not overflowed */
        va_end(ap);
}

static struct virt_guest *guest(struct virtb *b, const char *name)
{
        for (size_t i = 0; i < b->n_g; i++)
                if (!strcmp(b->g[i].name, name))
                        return &b->g[i];
        return NULL;
}

static void imp_done(struct imp *j, int r, void *userdata)
{
        struct virtb *b = userdata;
        struct virt_guest *g = guest(b, b->imp_vm);
        if (g && r == 0) {
                g->imp = VIRT_IMP_DONE;
                g->percent = 100;
                log_obj(LOG_PRI_INFO, "vm", g->name,
                        "%s: imported %s to %s", g->name, j->src, j->dst);
        } else if (g && r != -ECANCELED) {
                g->imp = VIRT_IMP_FAILED;
                snprintf(g->imp_err, sizeof(g->imp_err), "import failed: %s", j->last);
                log_obj(LOG_PRI_ERR, "vm", g->name,
                        "%s: import of %s failed: %s", g->name, j->src, j->last);
        }
        imp_cancel(j); /* frees it; the process is gone already */
        b->imp_vm[0] = '\0';
        virtb_schedule(b, 0);
}

/* Where the VM's disk stands: a qcow2 is used as it is; other formats are imported once to
 * disks/NAME.qcow2 in the state dir, which is then the guest's disk for good. */
static void disk_state(struct virtb *b, struct virt_guest *g, const struct nr_vm *vm)
{
        char dst[4096], rec[4096];
        g->note[0] = '\0';
        if (!vm->disk) {
                g->imp = VIRT_IMP_NONE;
                g->disk[0] = '\0';
                if (vm->disk_size || vm->base) /* made by more_disks() */
                        domain_blank_path(b->state_dir, vm->name, 0, g->disk, sizeof(g->disk));
                return;
        }
        if (!domain_needs_import(vm)) {
                g->imp = VIRT_IMP_NONE;
                snprintf(g->disk, sizeof(g->disk), "%s", vm->disk);
                if (access(vm->disk, R_OK) < 0)
                        note(g, "disk %s: %s", vm->disk, strerror(errno));
                return;
        }
        domain_import_path(b->state_dir, vm->name, dst, sizeof(dst));
        snprintf(g->disk, sizeof(g->disk), "%s", dst);
        if (access(dst, F_OK) == 0) {
                g->imp = VIRT_IMP_DONE;
                g->percent = 100;
                imp_recorded_source(dst, rec, sizeof(rec));
                if (strcmp(rec, vm->disk))
                        note(g, "%s was imported from %s, not %s; it stays the guest's disk "
                                 "(move it away to import again)",
                                 dst, rec[0] ? rec : "elsewhere", vm->disk);
                return;
        }
        if (g->imp == VIRT_IMP_FAILED && !strcmp(g->imp_src, vm->disk))
                return; /* tried already: the next reload retries */
        if (g->imp != VIRT_IMP_RUNNING)
                g->imp = VIRT_IMP_QUEUED;
        snprintf(g->imp_src, sizeof(g->imp_src), "%s", vm->disk);
        if (access(vm->disk, R_OK) < 0)
                note(g, "disk %s: %s", vm->disk, strerror(errno));
}

/* one import at a time: they are disk- and CPU-bound */
static void imports(struct virtb *b)
{
        char dst[4096], dir[4200];
        if (b->imp_vm[0] || b->imp.running) /* running, or a stopped one still exiting */
                return;
        for (size_t i = 0; i < b->n_g; i++) {
                struct virt_guest *g = &b->g[i];
                const struct nr_vm *vm = virtb_vm(b, g->name);
                if (g->imp != VIRT_IMP_QUEUED || !vm || g->note[0])
                        continue;
                domain_import_path(b->state_dir, vm->name, dst, sizeof(dst));
                snprintf(dir, sizeof(dir), "%s/disks", b->state_dir);
                int r = dir_ensure_mode(dir, DOMAIN_DIR_MODE);
                if (r >= 0)
                        r = imp_start(&b->imp, b->ev, vm->name, imp_qemu_format(vm->disk_format),
                                      vm->disk, dst, imp_done, b);
                if (r < 0) {
                        g->imp = VIRT_IMP_FAILED;
                        snprintf(g->imp_err, sizeof(g->imp_err), "import failed: %s",
                                 strerror(-r));
                        imp_cancel(&b->imp);
                        continue;
                }
                g->imp = VIRT_IMP_RUNNING;
                g->imp_err[0] = '\0';
                g->percent = 0;
                snprintf(b->imp_vm, sizeof(b->imp_vm), "%s", g->name);
                return;
        }
}

/* ---- the guest pass ---------------------------------------------------------------------- */

static bool running(const struct virtb *b, const char *name)
{
        const struct virt_snap *s = virtb_snap(b, name);
        return !b->have_snap || (s && strcmp(s->state, "shut off") && strcmp(s->state, "undefined"));
}

/* The disks after the first, as paths (blank ones created or grown here); false when one cannot
 * be had (g->disk_note says why). *paths is an array of n strings, freed by the caller. */
static bool more_disks(struct virtb *b, struct virt_guest *g, const struct nr_vm *vm,
                       char ***paths)
{
        char p[4200];
        bool on = running(b, vm->name), ok = true;
        g->disk_note[0] = '\0';
        if (vm->disk_size && virt_blank_disk(g->disk, vm->disk_size, on, g->disk_note,
                                             sizeof(g->disk_note)) < 0)
                ok = false;
        if (vm->base && virt_overlay_disk(g->disk, vm->base, false, g->disk_note,
                                          sizeof(g->disk_note)) < 0)
                ok = false;
        *paths = calloc(vm->n_disks + 1, sizeof(**paths));
        if (!*paths)
                return false;
        for (size_t i = 0; ok && i < vm->n_disks; i++) {
                const struct nr_vm_disk *d = &vm->disks[i];
                if (d->path) {
                        (*paths)[i] = strdup(d->path);
                        continue;
                }
                domain_blank_path(b->state_dir, vm->name, i + 1, p, sizeof(p));
                char note[400] = "";
                if (virt_blank_disk(p, d->size, on, note, sizeof(note)) < 0)
                        ok = false;
                if (note[0] && !g->disk_note[0])
                        snprintf(g->disk_note, sizeof(g->disk_note), "%s", note);
                (*paths)[i] = strdup(p);
        }
        for (size_t i = 0; ok && i < vm->n_disks; i++)
                ok = (*paths)[i] != NULL;
        return ok;
}

static void free_paths(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static void render_all(struct virtb *b)
{
        char console[4096], nvram[4200], dir[4200];
        for (size_t i = 0; i < b->n_g; i++) {
                struct virt_guest *g = &b->g[i];
                const struct nr_vm *vm = virtb_vm(b, g->name);
                render_domain_free(&g->dom);
                g->rendered = false;
                if (!vm || g->imp == VIRT_IMP_QUEUED || g->imp == VIRT_IMP_RUNNING ||
                    g->imp == VIRT_IMP_FAILED)
                        continue;
                char **more = NULL;
                if (!more_disks(b, g, vm, &more)) {
                        free_paths(more, vm->n_disks);
                        continue; /* status says why */
                }
                char seed[4200] = "";
                if (vm->cloud_init.set &&
                    virt_seed(b->state_dir, vm, seed, sizeof(seed), g->disk_note,
                              sizeof(g->disk_note)) < 0) {
                        free_paths(more, vm->n_disks);
                        continue; /* status says why */
                }
                /* an overlay holds only what the guest wrote: the base tells the firmware */
                virt_firmware(b->state_dir, vm, vm->base ? vm->base : g->disk[0] ? g->disk : NULL,
                              &g->fw);
                if (g->fw.missing[0]) {
                        free_paths(more, vm->n_disks);
                        continue; /* status says which file; the next pass looks again */
                }
                domain_console_path(b->state_dir, vm->name, console, sizeof(console));
                domain_nvram_path(b->state_dir, vm, nvram, sizeof(nvram));
                if (g->fw.fw == NR_FW_UEFI) { /* libvirt copies the template there */
                        snprintf(dir, sizeof(dir), "%s/nvram", b->state_dir);
                        dir_ensure_mode(dir, DOMAIN_DIR_MODE);
                }
                struct nr_domain_in in = {
                        .vm = vm, .accel = b->accel, .bridge = b->cfg->guests.bridge,
                        .console_path = console, .disk_path = g->disk[0] ? g->disk : NULL,
                        .firmware = g->fw.fw, .nvram_path = nvram,
                        .more_disks = (const char *const *)more, .n_more_disks = vm->n_disks,
                        .seed_path = seed[0] ? seed : NULL,
                };
                g->rendered = render_domain(&in, &g->dom) == 0;
                free_paths(more, vm->n_disks);
        }
}

/* The desired domains: every configured VM, ready where its definition is rendered. */
static int guests_desired(struct virtb *b, struct nr_desired *want)
{
        int r = model_doms(b->cfg, b->hold, want);
        for (size_t i = 0; r >= 0 && i < want->n_doms; i++) {
                const struct virt_guest *g = guest(b, want->doms[i].name);
                if (!g || !g->rendered)
                        continue;
                want->doms[i].ready = true;
                snprintf(want->doms[i].hash, sizeof(want->doms[i].hash), "%s", g->dom.hash);
                want->doms[i].xml = g->dom.xml;
        }
        return r;
}

static void engine_pass_guests(struct virtb *b)
{
        struct nr_desired want;
        struct nr_pass_result res;
        if (guests_desired(b, &want) < 0) {
                log_err("virt: out of memory planning the guests");
                return;
        }
        if (engine_pass(&b->eng, &want, NULL, false, &res) == 0 && res.retry_at_usec) {
                uint64_t now = now_usec();
                virtb_schedule(b, res.retry_at_usec > now ? res.retry_at_usec - now : 0);
        }
        model_free(&want);
}

char *virtb_plan_text(struct virtb *b)
{
        struct nr_desired want;
        struct nr_observed have;
        struct nr_plan plan;
        char *text = NULL;
        if (!b->cfg || guests_desired(b, &want) < 0)
                return NULL;
        if (engine_observe(&b->eng, &want, NULL, &have) == 0) {
                if (plan_build(&want, &have, NULL, &plan) == 0) {
                        text = plan_render(&plan);
                        plan_free(&plan);
                }
                observed_free(&have);
        }
        model_free(&want);
        return text;
}

const char *virtb_vm_error(const struct virtb *b, const char *name)
{
        size_t n;
        const struct nr_engine_fail *f = engine_failures(&b->eng, &n);
        for (size_t i = 0; i < n; i++)
                if (f[i].obj == NR_OBJ_VM && !strcmp(f[i].object, name))
                        return f[i].reason;
        return "";
}

static int on_cmd_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct virt_cmd *c = userdata;
        struct virtb *b = c->b;
        char msg[300];
        (void)s, (void)usec;
        snprintf(msg, sizeof(msg), "no answer from libvirt within %u s (%s%s)\n", c->timeout_s,
                 b->busy[0] ? "busy: " : "is libvirtd running?", b->busy);
        cmd_reply(cmd_take(b, c->id), 1, msg);
        return 0;
}

static int send_cmd(struct virtb *b, int fd, const struct nr_op *op, unsigned timeout_s,
                    const char *fmt, va_list ap)
{
        char line[9000]; /* vm reset carries two paths */
        uint64_t now;
        vsnprintf(line, sizeof(line), fmt, ap);
        struct virt_cmd *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->b = b;
        c->id = ++b->next_id;
        c->fd = fd;
        if (op)
                c->op = *op;
        c->timeout_s = timeout_s;
        sd_event_now(b->ev, CLOCK_MONOTONIC, &now);
        int r = sd_event_add_time(b->ev, &c->timeout, CLOCK_MONOTONIC,
                                  now + (uint64_t)timeout_s * 1000000, 100000, on_cmd_timeout, c);
        if (r >= 0)
                r = chan_sendf(&b->ch, "cmd %ld %s", c->id, line);
        if (r < 0) {
                sd_event_source_disable_unref(c->timeout);
                free(c);
                return r;
        }
        c->next = b->cmds;
        b->cmds = c;
        return 0;
}

int virtb_send_cmd(struct virtb *b, int fd, unsigned timeout_s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = send_cmd(b, fd, NULL, timeout_s, fmt, ap);
        va_end(ap);
        return r;
}

__attribute__((format(printf, 4, 5))) static int vb_send(struct virtb *b, const struct nr_op *op,
                                                         unsigned timeout_s, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = send_cmd(b, -1, op, timeout_s, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINPROGRESS;
}

/* ---- the virt backend: what the helper reported, ops sent to it ------------------------ */

static int vb_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                      struct nr_observed *have)
{
        struct virtb *b = self;
        (void)want, (void)prev;
        if (!b->have_snap || !b->connected || !sup_running(&b->helper))
                return 0; /* not known: nothing is planned for the guests */
        have->doms = calloc(b->n_snap + 1, sizeof(*have->doms));
        if (!have->doms)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_snap; i++) {
                const struct virt_snap *s = &b->snap[i];
                struct nr_obs_dom *d = &have->doms[i];
                snprintf(d->name, sizeof(d->name), "%s", s->name);
                snprintf(d->conf_hash, sizeof(d->conf_hash), "%s", s->conf);
                d->owned = s->ours;
                d->persistent = s->persistent;
                d->active = s->active;
                d->started = s->started;
        }
        have->n_doms = b->n_snap;
        have->doms_known = true;
        return 0;
}

static bool vb_in_flight(const struct virtb *b, const char *name)
{
        for (const struct virt_cmd *c = b->cmds; c; c = c->next)
                if (c->fd < 0 && !strcmp(c->op.vm.name, name))
                        return true;
        return false;
}

static const struct nr_dom *want_dom(const struct nr_desired *want, const char *name)
{
        for (size_t i = 0; i < want->n_doms; i++)
                if (!strcmp(want->doms[i].name, name))
                        return &want->doms[i];
        return NULL;
}

static int vb_apply(void *self, const struct nr_desired *want, const struct nr_op *op, char *err,
                    size_t errlen)
{
        struct virtb *b = self;
        const struct nr_dom *d = want_dom(want, op->vm.name);
        int r = -EINVAL;
        if (vb_in_flight(b, op->vm.name)) /* one op per guest at a time, in plan order */
                return -EINPROGRESS;
        if (op->kind == NR_OP_VM_DEFINE && !(d && d->xml)) {
                snprintf(err, errlen, "no rendered definition for %s", op->vm.name);
                return -EINVAL;
        }
        if (op->kind == NR_OP_VM_DEFINE)
                r = vb_send(b, op, VIRT_OP_TIMEOUT_S, "define %s\n%s", d->name, d->xml);
        else if (op->kind == NR_OP_VM_START)
                r = vb_send(b, op, VIRT_START_TIMEOUT_S, "autostart %s", op->vm.name);
        else if (op->kind == NR_OP_VM_UNDEFINE)
                r = vb_send(b, op, VIRT_OP_TIMEOUT_S, "undefine %s", op->vm.name);
        if (r < 0 && r != -EINPROGRESS)
                snprintf(err, errlen, "cannot reach the virt helper: %s", strerror(-r));
        return r;
}

static bool vb_is_change(void *self, const struct nr_op *op)
{
        (void)self, (void)op;
        return true; /* a guest's op always follows the configuration or the boot */
}

static const struct nr_backend_ops virt_ops = {
        .name = "virt",
        .observe = vb_observe,
        .apply = vb_apply,
        .is_change = vb_is_change,
};

static void guest_pass(struct virtb *b)
{
        char dir[4200];
        int r;
        if (!b->cfg)
                return;
        const struct nr_libvirt *lv = &b->cfg->libvirt;
        if (sup_running(&b->helper) && (strcmp(b->uri, lv->uri) || b->accel_mode != lv->accel)) {
                log_info("virt: libvirt settings changed; restarting the helper");
                sup_stop(&b->helper); /* its exit schedules the pass that starts the new one */
                b->accel_known = false;
        }
        if (!b->cfg->n_vms && !b->helper.pid)
                return; /* never had VMs: no helper, nothing to do */
        /* before the backoff deadline: -EAGAIN, and the exit already scheduled that pass */
        if (!b->helper.pid && (r = helper_spawn(b)) < 0 && r != -EAGAIN)
                log_err("virt: cannot start the helper: %s", strerror(-r));
        snprintf(dir, sizeof(dir), "%s/console", b->state_dir);
        dir_ensure(dir, 0755);
        for (size_t i = 0; i < b->n_g; i++)
                disk_state(b, &b->g[i], virtb_vm(b, b->g[i].name));
        imports(b);
        for (size_t i = 0; i < b->n_g; i++) /* a source disk that is not there yet: look again */
                if (b->g[i].imp == VIRT_IMP_QUEUED && b->g[i].note[0])
                        virtb_schedule(b, 30 * 1000000ull);
        if (!sup_running(&b->helper) || !b->accel_known || !b->network_ready)
                return;
        render_all(b);
        engine_pass_guests(b);
}

static void on_pass(void *userdata)
{
        guest_pass(userdata);
}

void virtb_schedule(struct virtb *b, uint64_t delay_usec)
{
        debounce_schedule(&b->pass, delay_usec);
}

static uint64_t host_memory(void)
{
        char line[128];
        unsigned long long kib = 0;
        FILE *f = fopen("/proc/meminfo", "re");
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return (uint64_t)kib << 10;
}

/* at every load: do the autostarted guests fit? (a warning with figures, kept for status) */
static void check_resources(struct virtb *b, const struct nr_config *cfg)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int n = guest_resources_check(cfg, host_memory(), cpus > 0 ? (unsigned)cpus : 0,
                                      b->resources, sizeof(b->resources));
        for (char *l = b->resources, *nl; n > 0 && *l; l = nl + 1) {
                if (!(nl = strchr(l, '\n')))
                        break;
                log_warn("guests: %.*s", (int)(nl - l), l);
        }
}

void virtb_set_config(struct virtb *b, const struct nr_config *cfg)
{
        struct virt_guest *g = calloc(cfg->n_vms + 1, sizeof(*g));
        bool keep_import = false;
        if (!g)
                return;
        for (size_t i = 0; i < cfg->n_vms; i++) {
                const struct nr_vm *vm = &cfg->vms[i];
                const struct virt_guest *old = guest(b, vm->name);
                snprintf(g[i].name, sizeof(g[i].name), "%s", vm->name);
                if (!old || !vm->disk || strcmp(old->imp_src, vm->disk))
                        continue;
                /* same disk: an import keeps going across a reload; a failed one is retried */
                g[i].imp = old->imp == VIRT_IMP_FAILED ? VIRT_IMP_QUEUED : old->imp;
                snprintf(g[i].imp_err, sizeof(g[i].imp_err), "%s", old->imp_err);
                g[i].percent = old->percent;
                snprintf(g[i].imp_src, sizeof(g[i].imp_src), "%s", old->imp_src);
                keep_import |= !strcmp(b->imp_vm, vm->name);
        }
        if (b->imp_vm[0] && !keep_import) { /* its VM is gone or has another disk now */
                imp_stop(&b->imp); /* imp_done() follows and frees it; nothing waits */
                b->imp_vm[0] = '\0';
        }
        for (size_t k = 0; k < b->n_g; k++)
                render_domain_free(&b->g[k].dom);
        free(b->g);
        b->g = g;
        b->n_g = cfg->n_vms;
        b->cfg = cfg;
        check_resources(b, cfg);
        snap_classify(b);
        engine_retry_now(&b->eng);
        virtb_schedule(b, 0);
}

void virtb_network_pass(struct virtb *b)
{
        if (b->network_ready)
                return;
        b->network_ready = true;
        virtb_schedule(b, 0);
}

static uint64_t engine_now(void *ctx)
{
        (void)ctx;
        return now_usec();
}

static void engine_say(void *ctx, int pri, enum nr_obj o, const char *object, const char *msg)
{
        (void)ctx;
        log_obj(pri, plan_obj_name(o), object, "%s", msg);
}

int virtb_open(struct virtb *b, sd_event *ev, const char *run_dir, const char *state_dir,
               struct nr_counters *n)
{
        memset(b, 0, sizeof(*b));
        b->ev = ev;
        b->ch.fd = -1;
        b->imp.fd = -1;
        b->run_dir = strdup(run_dir);
        b->state_dir = strdup(state_dir);
        debounce_init(&b->pass, ev, on_pass, b);
        engine_init(&b->eng, n, b->last_error, sizeof(b->last_error), engine_now, engine_say,
                    b);
        engine_set_backend(&b->eng, NR_BACKEND_VIRT, &virt_ops, b);
        sup_init(&b->helper, ev, "virt helper", &helper_policy, on_helper_exit, b);
        snprintf(b->conn_msg, sizeof(b->conn_msg), "the virt helper is not running");
        return b->run_dir && b->state_dir ? 0 : -ENOMEM;
}

void virtb_close(struct virtb *b)
{
        imp_cancel(&b->imp); /* a running one is killed and waited for */
        sup_close(&b->helper); /* at exit: waits for it (SIGTERM kills it at once) */
        helper_forget(b);
        virtb_cmds_close(b, "nestrouterd is stopping\n");
        debounce_free(&b->pass);
        engine_free(&b->eng);
        for (size_t i = 0; i < b->n_g; i++)
                render_domain_free(&b->g[i].dom);
        free(b->g);
        free(b->snap);
        free(b->run_dir);
        free(b->state_dir);
        memset(b, 0, sizeof(*b));
        b->ch.fd = -1;
}
