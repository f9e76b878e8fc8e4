/* BIRD as a process of its own, driven through its control socket (bgp.h). Every exchange is
 * one short command with a bounded wait (BIRD answers in about a millisecond); a BIRD that
 * does not answer counts as not running and the planner starts a fresh one. */
#include "backend/bgp/bgp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/render/render_bird.h"
#include "core/render/render_text.h"
#include "core/lib/strbuf.h"
#include "lib/fileio.h"
#include "lib/log.h"

#define BIRD_REPLY_MAX (256 * 1024)
#define BIRD_WAIT_MS 1000

/* ---- the control socket ------------------------------------------------------------------ */

static int ctl_connect(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct timeval tv = {.tv_sec = BIRD_WAIT_MS / 1000, .tv_usec = BIRD_WAIT_MS % 1000 * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Reads one complete reply into *out (caller frees). */
static int ctl_read(int fd, char **out)
{
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len + 1 >= cap) {
                        char *nb = cap < BIRD_REPLY_MAX ? realloc(buf, cap *= 2) : NULL;
                        if (!nb) {
                                free(buf);
                                return -EMSGSIZE;
                        }
                        buf = nb;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -ECONNRESET;
                        free(buf);
                        return r == -EAGAIN ? -ETIMEDOUT : r;
                }
                len += (size_t)n;
                buf[len] = '\0';
                if (bird_reply_complete(buf, len))
                        break;
        }
        *out = buf;
        return 0;
}

/* One command: its whole reply in *reply (caller frees). */
static int bird_cmd(const char *sock, const char *cmd, char **reply)
{
        char *hello = NULL, line[256];
        int fd = ctl_connect(sock);
        if (fd < 0)
                return fd;
        int r = ctl_read(fd, &hello); /* "0001 BIRD 2.0.12 ready." */
        free(hello);
        snprintf(line, sizeof(line), "%s\n", cmd);
        if (r >= 0 && write(fd, line, strlen(line)) != (ssize_t)strlen(line))
                r = -EIO;
        if (r >= 0)
                r = ctl_read(fd, reply);
        close(fd);
        return r;
}

/* ---- the process ------------------------------------------------------------------------- */

static bool bird_answers(const struct bgpb *b)
{
        char *reply = NULL;
        int r = bird_cmd(b->sock, "show status", &reply);
        free(reply);
        return r >= 0;
}

/* A BIRD left by an earlier start that no longer answers (its socket removed, hung): stop it
 * before starting another, which would find BGP's port taken. Only a process named bird. */
static void stop_leftover(const struct bgpb *b)
{
        char *s = file_read(b->pid, NULL), path[64], *comm;
        pid_t pid = s ? (pid_t)strtol(s, NULL, 10) : 0;
        free(s);
        if (pid <= 1)
                return;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        comm = file_read(path, NULL);
        bool ours = comm && !strncmp(comm, "bird", 4);
        free(comm);
        if (!ours || kill(pid, SIGTERM) < 0)
                return;
        log_obj(LOG_PRI_WARNING, "bgp", "bird", "stopping BIRD pid %d: it no longer answers on "
                "%s", (int)pid, b->sock);
        for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
                usleep(20000);
        if (kill(pid, 0) == 0)
                kill(pid, SIGKILL);
}

static bool under_systemd(void)
{
        return getenv("INVOCATION_ID") && access("/run/systemd/system", F_OK) == 0;
}

/* Runs BIRD and waits (bounded) for its first process to exit: BIRD forks into the background
 * once its configuration parsed, so exit 0 means running. Under systemd it becomes the
 * transient unit nestrouter-bird.service, outside nestrouterd's cgroup (a stop of
 * nestrouter.service would otherwise kill it with the daemon). */
static int spawn(struct bgpb *b, char *err, size_t errlen)
{
        const char *bird[] = {"bird", "-c", b->conf, "-s", b->sock, "-P", b->pid, NULL};
        char pidprop[4200];
        snprintf(pidprop, sizeof(pidprop), "PIDFile=%s", b->pid);
        const char *sd[] = {"systemd-run", "--quiet", "--collect", "--unit=nestrouter-bird",
                            "--service-type=forking", "-p", pidprop, "bird", "-c", b->conf,
                            "-s", b->sock, "-P", b->pid, NULL};
        const char *const *argv = under_systemd() ? sd : bird;
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return snprintf(err, errlen, "pipe: %s", strerror(errno)), -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pfd[0]), close(pfd[1]);
                return snprintf(err, errlen, "fork: %s", strerror(-r)), r;
        }
        if (pid == 0) {
                int nul = open("/dev/null", O_RDONLY);
                if (nul >= 0)
                        dup2(nul, 0);
                dup2(pfd[1], 1);
                dup2(pfd[1], 2);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                execvp(argv[0], (char *const *)argv);
                dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(pfd[1]);
        int st = 0, r = 0;
        for (int i = 0; i < 500; i++) { /* 5 s: systemd-run waits for the unit */
                r = (int)waitpid(pid, &st, WNOHANG);
                if (r != 0)
                        break;
                usleep(10000);
        }
        if (r == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
        }
        char out[512] = "";
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (poll(&p, 1, 0) > 0) {
                ssize_t n = read(pfd[0], out, sizeof(out) - 1);
                out[n > 0 ? n : 0] = '\0';
                out[strcspn(out, "\n")] = '\0';
        }
        close(pfd[0]);
        if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        snprintf(err, errlen, "%s did not start: %s", argv[0],
                 out[0] ? out : r == 0 ? "no answer in 5 s" : "exit status");
        return -EIO;
}

/* ---- ops --------------------------------------------------------------------------------- */

int bgpb_open(struct bgpb *b, const char *run_dir, const char *state_dir)
{
        /* everything else is in the state dir: BIRD outlives the daemon */
        memset(b, 0, sizeof(*b));
        snprintf(b->drain_boot, sizeof(b->drain_boot), "%s/bgp-drained", run_dir);
        b->drained_boot = access(b->drain_boot, F_OK) == 0;
        snprintf(b->conf, sizeof(b->conf), "%s/bird.conf", state_dir);
        snprintf(b->sock, sizeof(b->sock), "%s/bird.ctl", state_dir);
        snprintf(b->pid, sizeof(b->pid), "%s/bird.pid", state_dir);
        snprintf(b->drain, sizeof(b->drain), "%s/bgp-drained", state_dir);
        b->drained = access(b->drain, F_OK) == 0;
        return 0;
}

void bgpb_close(struct bgpb *b)
{
        (void)b; /* BIRD keeps the routes advertised while nestrouterd is away */
}

static int unlink_flag(const char *path)
{
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int bgpb_set_drained(struct bgpb *b, bool drained, bool until_reboot)
{
        int r;
        if (!drained) {
                r = unlink_flag(b->drain);
                int r2 = unlink_flag(b->drain_boot);
                if (r >= 0)
                        b->drained = false;
                if (r2 >= 0)
                        b->drained_boot = false;
                return r < 0 ? r : r2;
        }
        if (until_reboot) {
                r = file_write_atomic(b->drain_boot, "drained until the next boot\n", 0644);
                if (r >= 0)
                        b->drained_boot = true;
                return r;
        }
        r = file_write_atomic(b->drain, "drained by nestrouterctl drain\n", 0644);
        if (r >= 0)
                b->drained = true;
        return r;
}

bool bgpb_is_drained(const struct bgpb *b)
{
        return b->drained || b->drained_boot;
}

int bgpb_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                 struct nr_observed *have)
{
        struct bgpb *b = self;
        (void)prev;
        b->running = false;
        b->sessions.n = 0;
        if (!want->bird_conf && access(b->sock, F_OK) < 0)
                return 0; /* no bgp: and no BIRD of ours */
        char *reply = NULL;
        if (bird_cmd(b->sock, "show protocols all", &reply) < 0) {
                free(reply);
                return 0;
        }
        bird_parse_protocols(reply, &b->sessions);
        free(reply);
        b->running = true;
        have->bird_running = true;
        have->bgp_up = bird_sessions_up(&b->sessions);
        have->bird_conf = file_read(b->conf, NULL); /* NULL (missing): configure again */
        return 0;
}

int bgpb_withdrawn(const struct bgpb *b, unsigned *exported)
{
        struct nr_bird_sessions now;
        char *reply = NULL;
        *exported = 0;
        int r = bird_cmd(b->sock, "show protocols all", &reply);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                free(reply);
                return 1; /* no BIRD: nothing is advertised */
        }
        if (r >= 0)
                bird_parse_protocols(reply, &now);
        free(reply);
        if (r < 0)
                return r;
        *exported = bird_sessions_exported(&now);
        return *exported == 0;
}

static int start(struct bgpb *b, const char *text, char *err, size_t errlen)
{
        int r = file_write_atomic(b->conf, text, 0644);
        if (r < 0)
                return snprintf(err, errlen, "%s: %s", b->conf, strerror(-r)), r;
        stop_leftover(b);
        unlink(b->sock);
        if ((r = spawn(b, err, errlen)) < 0)
                return r;
        b->starts++;
        for (int i = 0; i < 100 && !bird_answers(b); i++) /* 2 s */
                usleep(20000);
        if (!bird_answers(b))
                return snprintf(err, errlen, "BIRD started but does not answer on %s", b->sock),
                       -ETIMEDOUT;
        return 0;
}

/* `configure`: BIRD re-reads the file; on a refusal the previous text goes back. */
static int configure(struct bgpb *b, const char *text, char *err, size_t errlen)
{
        char *old = file_read(b->conf, NULL), *reply = NULL;
        int r = file_write_atomic(b->conf, text, 0644);
        if (r < 0) {
                free(old);
                return snprintf(err, errlen, "%s: %s", b->conf, strerror(-r)), r;
        }
        r = bird_cmd(b->sock, "configure", &reply);
        int code = r >= 0 ? bird_reply_code(reply) : -1;
        if (r >= 0 && code >= 8000) {
                char msg[200];
                bird_reply_message(reply, msg, sizeof(msg));
                snprintf(err, errlen, "BIRD refused the configuration: %s", msg);
                r = -EINVAL;
        } else if (r < 0) {
                snprintf(err, errlen, "configure: %s", strerror(-r));
        }
        if (r < 0 && old)
                file_write_atomic(b->conf, old, 0644);
        if (r >= 0)
                b->configures++;
        free(old);
        free(reply);
        return r;
}

static int stop(struct bgpb *b, char *err, size_t errlen)
{
        char *reply = NULL;
        int r = bird_cmd(b->sock, "down", &reply);
        free(reply);
        if (r < 0)
                return snprintf(err, errlen, "down: %s", strerror(-r)), r;
        unlink(b->conf);
        return 0;
}

int bgpb_apply(void *self, const struct nr_desired *want, const struct nr_op *op, char *err,
               size_t errlen)
{
        struct bgpb *b = self;
        const char *text = op->bgp.advertise ? want->bird_conf : want->bird_conf_withdrawn;
        char *kept = NULL;
        int r = -EINVAL;
        /* not a switch: the other backends' op kinds are none of this backend's business */
        if (op->kind == NR_OP_BGP_START) {
                r = text ? start(b, text, err, errlen) : -EINVAL;
        } else if (op->kind == NR_OP_BGP_CONFIGURE) {
                if (op->bgp.keep_sessions) {
                        char *old = file_read(b->conf, NULL);
                        kept = bird_conf_keep_sessions(old, text,
                                                       bird_sessions_up(&b->sessions));
                        free(old);
                }
                r = text ? configure(b, kept ? kept : text, err, errlen) : -EINVAL;
                free(kept);
        } else if (op->kind == NR_OP_BGP_STOP) {
                r = stop(b, err, errlen);
        } else {
                snprintf(err, errlen, "not a bgp op");
                return -EINVAL;
        }
        if (r < 0) {
                b->failures++;
                snprintf(b->last_error, sizeof(b->last_error), "%s", err);
        }
        return r;
}

/* A new text for a running BIRD follows a decision (the health gate, drain, a
 * reload), not drift in BIRD; only a BIRD that had to be started again is a repair. */
static bool bgpb_is_change(void *self, const struct nr_op *op)
{
        (void)self;
        return op->kind == NR_OP_BGP_CONFIGURE;
}

const struct nr_backend_ops bgpb_ops = {
        .name = "bgp",
        .observe = bgpb_observe,
        .apply = bgpb_apply,
        .is_change = bgpb_is_change,
};

/* ---- status ------------------------------------------------------------------------------ */

void bgpb_status_json(const struct bgpb *b, struct nr_buf *out, bool adv, const char *why,
                      bool deferred)
{
        buf_printf(out, ",\"bgp\":{\"bird_running\":%s,\"advertising\":%s,\"reason\":",
                   b->running ? "true" : "false", adv ? "true" : "false");
        json_str(out, adv ? "" : why);
        buf_printf(out, ",\"drained\":%s,\"drained_until_reboot\":%s,"
                        "\"sessions_settings_deferred\":%s,\"starts\":%u,"
                        "\"configures\":%u,\"failures\":%u,\"last_error\":",
                   bgpb_is_drained(b) ? "true" : "false", b->drained_boot ? "true" : "false",
                   deferred ? "true" : "false", b->starts,
                   b->configures, b->failures);
        json_str(out, b->last_error);
        buf_puts(out, ",\"sessions\":[");
        for (size_t i = 0; i < b->sessions.n; i++) {
                const struct nr_bird_session *s = &b->sessions.v[i];
                buf_printf(out, "%s{\"name\":", i ? "," : "");
                json_str(out, s->name);
                buf_puts(out, ",\"neighbor\":");
                json_str(out, s->neighbor);
                buf_printf(out, ",\"established\":%s,\"state\":", s->up ? "true" : "false");
                json_str(out, s->state);
                buf_puts(out, ",\"since\":");
                json_str(out, s->since);
                buf_puts(out, ",\"info\":");
                json_str(out, s->info);
                buf_printf(out, ",\"routes_imported\":%u,\"routes_exported\":%u}", s->imported,
                           s->exported);
        }
        buf_puts(out, "]}");
}

void bgpb_status_text(const struct bgpb *b, struct nr_buf *out, bool adv, const char *why,
                      bool deferred)
{
        if (!b->running) {
                buf_printf(out, "bgp:       BIRD not running%s%s\n", b->last_error[0] ? ": " : "",
                           b->last_error);
                return;
        }
        if (adv)
                buf_puts(out, "bgp:       advertising\n");
        else
                buf_printf(out, "bgp:       withdrawn: %s\n", why);
        if (deferred)
                buf_puts(out, "bgp:       session settings changed: they apply when the "
                              "sessions restart\n");
        for (size_t i = 0; i < b->sessions.n; i++) {
                const struct nr_bird_session *s = &b->sessions.v[i];
                buf_printf(out, "  %-8s %-15s %-12s since %s, %u routes in, %u out\n", s->name,
                           s->neighbor, s->state[0] ? s->state : s->info, s->since, s->imported,
                           s->exported);
        }
}

void bgpb_teardown(const char *state_dir)
{
        struct bgpb b;
        char err[256];
        bgpb_open(&b, NULL, state_dir);
        if (access(b.sock, F_OK) == 0 && stop(&b, err, sizeof(err)) < 0)
                log_warn("bird: %s", err);
        unlink(b.conf);
        unlink(b.drain);
}
