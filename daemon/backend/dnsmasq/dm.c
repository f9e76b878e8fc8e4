/* dnsmasq supervision. The child logs to our stderr (log-facility=-), so its lines reach the
 * journal with ours. A dnsmasq left behind by an earlier nestrouterd (killed hard) is found by
 * the pid file in the run dir and stopped before ours starts, so the two never fight over the
 * DHCP port or the lease file. */
#include "dm.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "core/strbuf.h"
#include "fileio.h"
#include "log.h"

#define BACKOFF_MAX_USEC (30ull * 1000000)
#define STABLE_USEC (30ull * 1000000)

static void path_in(const char *dir, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", dir, name);
}

void dmb_leases_path(const struct dmb *b, char *buf, size_t size)
{
        path_in(b->state_dir, "dnsmasq.leases", buf, size);
}

/* pid has exited: gone, or a zombie nobody has reaped yet. kill(pid, 0) succeeds on a zombie,
 * so a dnsmasq left by an earlier daemon (reparented to an init that reaps lazily) would
 * otherwise cost the whole 2 s wait and a pointless SIGKILL at startup. */
static bool exited(pid_t pid)
{
        char path[64];
        if (kill(pid, 0) < 0 && errno == ESRCH)
                return true;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        char *st = file_read(path, NULL);
        const char *p = st ? strrchr(st, ')') : NULL;
        bool zombie = p && p[1] == ' ' && p[2] == 'Z';
        free(st);
        return zombie;
}

/* SIGTERM, then SIGKILL after 2 s; reaps it ourselves (the child source is gone by then). */
static void stop_pid(pid_t pid)
{
        kill(pid, SIGTERM);
        for (int i = 0; i < 200; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return;
                if (exited(pid)) { /* left by an earlier daemon and gone, or ... */
                        waitpid(pid, NULL, WNOHANG); /* ... our child that just died */
                        return;
                }
                usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static void stop_leftover(struct dmb *b)
{
        char pidfile[4096], conf[4096], cmdpath[64];
        path_in(b->run_dir, "dnsmasq.pid", pidfile, sizeof(pidfile));
        path_in(b->run_dir, "dnsmasq.conf", conf, sizeof(conf));
        char *txt = file_read(pidfile, NULL);
        pid_t pid = txt ? (pid_t)atoi(txt) : 0;
        free(txt);
        if (pid <= 1)
                return;
        snprintf(cmdpath, sizeof(cmdpath), "/proc/%d/cmdline", (int)pid);
        size_t len = 0;
        char *cmd = file_read(cmdpath, &len);
        bool ours = false;
        for (size_t off = 0; cmd && off < len; off += strlen(cmd + off) + 1)
                ours |= strstr(cmd + off, conf) != NULL;
        free(cmd);
        if (ours) {
                log_info("dnsmasq: stopping pid %d left by an earlier nestrouterd", (int)pid);
                stop_pid(pid);
        }
        unlink(pidfile);
}

/* dnsmasq drops to an unprivileged user before it (re-)reads the hostsfile: a run dir that
 * user cannot reach would make every reservation silently fall back to the pool (and port
 * forwards point at the wrong guest). Returns false, naming the directory, when some component
 * of the path is not searchable by others. */
static bool reachable_by_others(const char *dir)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s", dir);
        for (char *end = path + strlen(path); end > path; *end = '\0') {
                struct stat st;
                if (stat(path, &st) == 0 && !(st.st_mode & S_IXOTH)) {
                        log_notice("dnsmasq: %s is not searchable by other users (mode %04o): "
                                   "the reservations go into dnsmasq's configuration, which it "
                                   "reads before it drops root, and a change restarts it",
                                   path, (unsigned)(st.st_mode & 07777));
                        return false;
                }
                end = strrchr(path, '/');
                if (!end)
                        break;
        }
        return true;
}

/* The conf with its dhcp-hostsfile line replaced by one dhcp-host line per reservation. */
static char *conf_with_hosts(const char *conf, const char *hosts)
{
        struct nr_buf b = {0};
        for (const char *l = conf; *l;) {
                const char *e = strchrnul(l, '\n');
                if (strncmp(l, "dhcp-hostsfile=", 15))
                        buf_printf(&b, "%.*s\n", (int)(e - l), l);
                l = *e ? e + 1 : e;
        }
        buf_puts(&b, "# reservations inline (the run dir is not reachable once dnsmasq drops root)\n");
        for (const char *l = hosts; *l;) {
                const char *e = strchrnul(l, '\n');
                if (e > l && *l != '#')
                        buf_printf(&b, "dhcp-host=%.*s\n", (int)(e - l), l);
                l = *e ? e + 1 : e;
        }
        return buf_finish(&b);
}

int dmb_open(struct dmb *b, sd_event *ev, const char *run_dir, const char *state_dir,
             void (*on_exit)(void *), void *userdata)
{
        memset(b, 0, sizeof(*b));
        b->ev = ev;
        b->on_exit = on_exit;
        b->userdata = userdata;
        b->run_dir = strdup(run_dir);
        b->state_dir = strdup(state_dir);
        if (!b->run_dir || !b->state_dir)
                return -ENOMEM;
        stop_leftover(b);
        b->hosts_inline = !reachable_by_others(run_dir);
        return 0;
}

static void forget(struct dmb *b)
{
        char pidfile[4096];
        b->child = sd_event_source_disable_unref(b->child);
        b->pid = 0;
        free(b->conf);
        free(b->hosts);
        b->conf = b->hosts = NULL;
        path_in(b->run_dir, "dnsmasq.pid", pidfile, sizeof(pidfile));
        unlink(pidfile);
}

static void stop(struct dmb *b)
{
        if (!b->pid)
                return;
        pid_t pid = b->pid;
        b->child = sd_event_source_disable_unref(b->child);
        stop_pid(pid);
        forget(b);
}

void dmb_close(struct dmb *b)
{
        stop(b);
        free(b->run_dir);
        free(b->state_dir);
        memset(b, 0, sizeof(*b));
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct dmb *b = userdata;
        (void)s;
        uint64_t now = now_usec();
        if (si->si_code == CLD_EXITED)
                log_warn("dnsmasq (pid %d) exited with status %d", (int)si->si_pid, si->si_status);
        else
                log_warn("dnsmasq (pid %d) killed by signal %d", (int)si->si_pid, si->si_status);
        b->crashes++;
        b->fails_in_row = now - b->started_usec > STABLE_USEC ? 1 : b->fails_in_row + 1;
        /* the first restart is immediate; a crash loop backs off up to 30 s */
        uint64_t delay = b->fails_in_row <= 1 ? 0 : 250000ull << (b->fails_in_row - 2);
        b->not_before_usec = now + (delay > BACKOFF_MAX_USEC ? BACKOFF_MAX_USEC : delay);
        forget(b);
        if (b->on_exit)
                b->on_exit(b->userdata);
        return 0;
}

static int spawn(struct dmb *b, const char *conf_path, char *err, size_t errlen)
{
        const char *bin = getenv("NR_DNSMASQ") ? getenv("NR_DNSMASQ") : "/usr/sbin/dnsmasq";
        char arg[4200];
        snprintf(arg, sizeof(arg), "--conf-file=%s", conf_path);
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(err, errlen, "fork: %s", strerror(errno));
                return -errno;
        }
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execl(bin, bin, "--keep-in-foreground", arg, (char *)NULL);
                fprintf(stderr, "<3>dnsmasq: exec %s: %s\n", bin, strerror(errno));
                _exit(127);
        }
        b->pid = pid;
        b->starts++;
        b->started_usec = now_usec();
        int r = sd_event_add_child(b->ev, &b->child, pid, WEXITED, on_child, b);
        if (r < 0) {
                snprintf(err, errlen, "watch child: %s", strerror(-r));
                stop(b);
                return r;
        }
        char pidfile[4096], txt[32];
        path_in(b->run_dir, "dnsmasq.pid", pidfile, sizeof(pidfile));
        snprintf(txt, sizeof(txt), "%d\n", (int)pid);
        file_write_atomic(pidfile, txt, 0644);
        return 0;
}

static int start(struct dmb *b, const char *conf, const char *hosts, const char *bridge,
                 char *err, size_t errlen)
{
        char cpath[4096], hpath[4096];
        if (now_usec() < b->not_before_usec) {
                snprintf(err, errlen, "backing off after %u failures", b->fails_in_row);
                return -EAGAIN;
        }
        path_in(b->run_dir, "dnsmasq.conf", cpath, sizeof(cpath));
        path_in(b->run_dir, "dnsmasq.hosts", hpath, sizeof(hpath));
        char *inl = b->hosts_inline ? conf_with_hosts(conf, hosts) : NULL;
        if (b->hosts_inline && !inl)
                return -ENOMEM;
        int r = file_write_atomic(hpath, hosts, 0644);
        if (r >= 0)
                r = file_write_atomic(cpath, inl ? inl : conf, inl ? 0600 : 0644);
        free(inl);
        if (r < 0) {
                snprintf(err, errlen, "write %s: %s", cpath, strerror(-r));
                return r;
        }
        stop(b);
        /* dnsmasq sets its own umask (022) before it creates the lease file: create it first,
         * private (guests' MACs and names), and keep it so (it only appends and rewrites) */
        char leases[4096];
        dmb_leases_path(b, leases, sizeof(leases));
        int lfd = open(leases, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lfd >= 0) {
                if (fchmod(lfd, 0600) < 0)
                        log_warn_errno(-errno, "%s: %m", leases);
                close(lfd);
        }
        if ((r = spawn(b, cpath, err, errlen)) < 0)
                return r;
        b->conf = strdup(conf);
        b->hosts = strdup(hosts);
        snprintf(b->bridge, sizeof(b->bridge), "%s", bridge ? bridge : "");
        b->bridge_ifindex = b->bridge[0] ? if_nametoindex(b->bridge) : 0;
        log_info("dnsmasq started (pid %d)", (int)b->pid);
        return b->conf && b->hosts ? 0 : -ENOMEM;
}

static int reload(struct dmb *b, const char *hosts, char *err, size_t errlen)
{
        char hpath[4096];
        if (b->hosts_inline) {
                char *conf = b->conf ? strdup(b->conf) : NULL;
                char br[sizeof(b->bridge)];
                snprintf(br, sizeof(br), "%s", b->bridge);
                int r = conf ? start(b, conf, hosts, br, err, errlen) : -ENOMEM;
                free(conf);
                return r;
        }
        path_in(b->run_dir, "dnsmasq.hosts", hpath, sizeof(hpath));
        int r = file_write_atomic(hpath, hosts, 0644);
        if (r < 0 || kill(b->pid, SIGHUP) < 0) {
                r = r < 0 ? r : -errno;
                snprintf(err, errlen, "reload: %s", strerror(-r));
                return r;
        }
        free(b->hosts);
        b->hosts = strdup(hosts);
        return b->hosts ? 0 : -ENOMEM;
}

int dmb_observe(struct dmb *b, struct nr_observed *have)
{
        have->dnsmasq_running = b->pid > 0;
        unsigned now = b->pid && b->bridge_ifindex ? if_nametoindex(b->bridge) : 0;
        if (now && now != b->bridge_ifindex) {
                /* not while the bridge is missing: it is recreated first, in the same pass */
                log_notice("dnsmasq (pid %d): bridge %s was replaced (ifindex %u, now %u); "
                           "restarting it", (int)b->pid, b->bridge, b->bridge_ifindex, now);
                return 0;
        }
        if (b->pid) {
                have->dnsmasq_conf = b->conf ? strdup(b->conf) : NULL;
                have->dnsmasq_hosts = b->hosts ? strdup(b->hosts) : NULL;
        }
        return 0;
}

int dmb_apply(struct dmb *b, const struct nr_op *op, const char *conf, const char *hosts,
              const char *bridge, char *err, size_t errlen)
{
        switch (op->kind) {
        case NR_OP_DNSMASQ_START:
                return start(b, conf, hosts, bridge, err, errlen);
        case NR_OP_DNSMASQ_RELOAD:
                return reload(b, hosts, err, errlen);
        case NR_OP_DNSMASQ_STOP:
                stop(b);
                return 0;
        default:
                return -EINVAL;
        }
}

/* ---- the engine's view (backend/backend.h) ----------------------------------------------- */

static int ops_observe(void *self, const struct nr_desired *want, const struct nr_desired *prev,
                       struct nr_observed *have)
{
        (void)want, (void)prev;
        return dmb_observe(self, have);
}

static int ops_apply(void *self, const struct nr_desired *want, const struct nr_op *op,
                     char *err, size_t errlen)
{
        return dmb_apply(self, op, want->dnsmasq_conf, want->dnsmasq_hosts, want->dhcp_bridge,
                         err, errlen);
}

static unsigned long long ops_retry_usec(void *self)
{
        const struct dmb *b = self;
        return b->not_before_usec;
}

const struct nr_backend_ops dmb_ops = {
        .name = "dnsmasq",
        .observe = ops_observe,
        .apply = ops_apply,
        .retry_usec = ops_retry_usec,
};
