/* dnsmasq as a child of the supervisor (lib/supervise.h), which holds its pid, counters, exit
 * reasons and backoff. The child logs to our stderr (log-facility=-), so its lines reach the
 * journal with ours. A dnsmasq left behind by an earlier nestrouterd (killed hard) is found by
 * the pid file in the run dir and stopped before ours starts, so the two never fight over the
 * DHCP port or the lease file. */
#include "backend/dnsmasq/dm.h"

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

#include "lib/clock.h"
#include "core/lib/strbuf.h"
#include "lib/fileio.h"
#include "lib/log.h"

/* the first restart is immediate; a crash loop backs off 250 ms, 500 ms, ... up to 30 s */
static const struct sup_policy policy = {
        .first_usec = 250000,
        .max_usec = 30ull * 1000000,
        .stable_usec = 30ull * 1000000,
        .grace_usec = 2ull * 1000000,
};

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

/* A dnsmasq that is not our child (an earlier daemon's), at startup, before the loop runs:
 * SIGTERM, then SIGKILL after 2 s. */
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

static void pidfile_path(const struct dmb *b, char *buf, size_t size)
{
        path_in(b->run_dir, "dnsmasq.pid", buf, size);
}

/* no instance wanted any more (the child may still be on its way out) */
static void forget(struct dmb *b)
{
        free(b->conf);
        free(b->hosts);
        b->conf = b->hosts = NULL;
        b->restart = false;
}

static void unlink_pidfile(const struct dmb *b)
{
        char pidfile[4096];
        pidfile_path(b, pidfile, sizeof(pidfile));
        unlink(pidfile);
}

static void exec_dnsmasq(void *arg)
{
        const char *conf_path = arg;
        const char *bin = getenv("NR_DNSMASQ") ? getenv("NR_DNSMASQ") : "/usr/sbin/dnsmasq";
        char opt[4200];
        snprintf(opt, sizeof(opt), "--conf-file=%s", conf_path);
        execl(bin, bin, "--keep-in-foreground", opt, (char *)NULL);
        fprintf(stderr, "<3>dnsmasq: exec %s: %s\n", bin, strerror(errno));
}

/* Starts dnsmasq on the files start() wrote, for b->conf, b->hosts and b->bridge. */
static int spawn(struct dmb *b, char *err, size_t errlen)
{
        char cpath[4096], leases[4096], pidfile[4096], txt[32];
        path_in(b->run_dir, "dnsmasq.conf", cpath, sizeof(cpath));
        /* dnsmasq sets its own umask (022) before it creates the lease file: create it first,
         * private (guests' MACs and names), and keep it so (it only appends and rewrites) */
        dmb_leases_path(b, leases, sizeof(leases));
        int lfd = open(leases, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lfd >= 0) {
                if (fchmod(lfd, 0600) < 0)
                        log_warn_errno(-errno, "%s: %m", leases);
                close(lfd);
        }
        pid_t pid = sup_start(&b->sup, exec_dnsmasq, cpath);
        if (pid == -EAGAIN) {
                snprintf(err, errlen, "backing off after %u failures", b->sup.fails_in_row);
                return -EAGAIN;
        }
        if (pid < 0) {
                snprintf(err, errlen, "start: %s", strerror(-pid));
                return pid;
        }
        pidfile_path(b, pidfile, sizeof(pidfile));
        snprintf(txt, sizeof(txt), "%d\n", (int)pid);
        file_write_atomic(pidfile, txt, 0644);
        b->bridge_ifindex = b->bridge[0] ? if_nametoindex(b->bridge) : 0;
        log_info("dnsmasq started (pid %d)", (int)pid);
        return 0;
}

static void on_exited(struct sup *s, const struct sup_exit *e, void *userdata)
{
        struct dmb *b = userdata;
        char err[256];
        (void)s, (void)e;
        unlink_pidfile(b);
        if (b->restart) { /* the old instance is gone: the new one can have the port */
                b->restart = false;
                if (spawn(b, err, sizeof(err)) >= 0)
                        return;
                log_err("dnsmasq: %s", err);
        }
        forget(b);
        if (b->on_exit)
                b->on_exit(b->userdata);
}

int dmb_open(struct dmb *b, sd_event *ev, const char *run_dir, const char *state_dir,
             void (*on_exit)(void *), void *userdata)
{
        memset(b, 0, sizeof(*b));
        b->ev = ev;
        b->on_exit = on_exit;
        b->userdata = userdata;
        sup_init(&b->sup, ev, "dnsmasq", &policy, on_exited, b);
        b->run_dir = strdup(run_dir);
        b->state_dir = strdup(state_dir);
        if (!b->run_dir || !b->state_dir)
                return -ENOMEM;
        stop_leftover(b);
        b->hosts_inline = !reachable_by_others(run_dir);
        return 0;
}

/* Never waits: the exit callback removes the pid file. */
static void stop(struct dmb *b)
{
        sup_stop(&b->sup);
        forget(b);
}

void dmb_close(struct dmb *b)
{
        if (b->sup.pid) {
                sup_close(&b->sup);
                unlink_pidfile(b);
        }
        forget(b);
        free(b->run_dir);
        free(b->state_dir);
        memset(b, 0, sizeof(*b));
}

static int start(struct dmb *b, const char *conf, const char *hosts, const char *bridge,
                 char *err, size_t errlen)
{
        char cpath[4096], hpath[4096];
        if (!b->sup.pid && now_usec() < b->sup.not_before_usec) {
                snprintf(err, errlen, "backing off after %u failures", b->sup.fails_in_row);
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
        char *c = strdup(conf), *h = strdup(hosts);
        if (!c || !h) {
                free(c);
                free(h);
                return -ENOMEM;
        }
        free(b->conf);
        free(b->hosts);
        b->conf = c;
        b->hosts = h;
        snprintf(b->bridge, sizeof(b->bridge), "%s", bridge ? bridge : "");
        if (b->sup.pid) { /* running, or being stopped: the new one starts on its exit */
                log_info("dnsmasq (pid %d): stopping it; the new configuration starts when it "
                         "has exited", (int)b->sup.pid);
                sup_stop(&b->sup);
                b->restart = true;
                return 0;
        }
        r = spawn(b, err, errlen);
        if (r < 0)
                forget(b);
        return r;
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
        /* an instance that is being replaced: the new one reads the file as it starts */
        if (r >= 0 && !b->restart)
                r = sup_kill(&b->sup, SIGHUP);
        if (r < 0) {
                snprintf(err, errlen, "reload: %s", strerror(-r));
                return r;
        }
        free(b->hosts);
        b->hosts = strdup(hosts);
        return b->hosts ? 0 : -ENOMEM;
}

int dmb_observe(struct dmb *b, struct nr_observed *have)
{
        bool up = sup_running(&b->sup) || b->restart; /* as the last START left it */
        have->dnsmasq_running = up;
        unsigned now = up && !b->restart && b->bridge_ifindex ? if_nametoindex(b->bridge) : 0;
        if (now && now != b->bridge_ifindex) {
                /* not while the bridge is missing: it is recreated first, in the same pass */
                log_notice("dnsmasq (pid %d): bridge %s was replaced (ifindex %u, now %u); "
                           "restarting it", (int)b->sup.pid, b->bridge, b->bridge_ifindex, now);
                return 0;
        }
        if (up) {
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
        return b->sup.not_before_usec;
}

const struct nr_backend_ops dmb_ops = {
        .name = "dnsmasq",
        .observe = ops_observe,
        .apply = ops_apply,
        .retry_usec = ops_retry_usec,
};
