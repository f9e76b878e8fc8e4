/* The qemu-img child: stdout and stderr on one pipe, progress in tenths to the log, the partial
 * file (dst.part) removed on failure or cancel. Runs at nice 10: a long compressing import must
 * not compete with the router itself. */
#include "backend/virt/import.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "lib/log.h"

const char *imp_qemu_format(enum nr_disk_format f)
{
        switch (f) {
        case NR_DISK_QCOW2:
                return "qcow2";
        case NR_DISK_RAW:
                return "raw";
        case NR_DISK_VHD:
                return "vpc";
        case NR_DISK_VHDX:
                return "vhdx";
        }
        return "raw";
}

int imp_parse_progress(const char *s, double *pct)
{
        const char *p = strchr(s, '(');
        char *end;
        if (!p)
                return -EINVAL;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || strncmp(end, "/100%)", 6) || v < 0 || v > 100)
                return -EINVAL;
        *pct = v;
        return 0;
}

void imp_recorded_source(const char *dst, char *buf, size_t size)
{
        char path[4200];
        snprintf(path, sizeof(path), "%s.source", dst);
        buf[0] = '\0';
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        if (!fgets(buf, (int)size, f))
                buf[0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

static void part_path(const struct imp *j, char *buf, size_t size)
{
        snprintf(buf, size, "%s.part", j->dst);
}

static void line_done(struct imp *j)
{
        double pct;
        j->line[j->linelen] = '\0';
        j->linelen = 0;
        if (imp_parse_progress(j->line, &pct) == 0) {
                j->percent = pct;
                if ((int)(pct / 10) > j->logged) {
                        j->logged = (int)(pct / 10);
                        log_obj(LOG_PRI_INFO, "vm", j->vm,
                                "%s: importing %s: %d%%", j->vm, j->src, j->logged * 10);
                }
                return;
        }
        char *s = j->line + strspn(j->line, " \t");
        if (*s)
                snprintf(j->last, sizeof(j->last), "%s", s);
}

/* reads what is there; returns false at EOF or on an error */
static bool drain(struct imp *j)
{
        char buf[1024];
        for (;;) {
                ssize_t n = read(j->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                if (n <= 0)
                        return false;
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] == '\r' || buf[i] == '\n') {
                                line_done(j);
                                continue;
                        }
                        if (j->linelen < sizeof(j->line) - 1)
                                j->line[j->linelen++] = buf[i];
                }
        }
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct imp *j = userdata;
        (void)fd, (void)revents;
        if (!drain(j))
                j->io = sd_event_source_disable_unref(s); /* EOF: the child source finishes */
        return 0;
}

static const struct sup_policy policy = {
        .grace_usec = 5ull * 1000000, /* qemu-img stops at once on SIGTERM; never restarted */
};

static void finish(struct imp *j)
{
        j->io = sd_event_source_disable_unref(j->io);
        if (j->fd >= 0)
                close(j->fd);
        j->fd = -1;
        j->running = false;
}

static int record(struct imp *j)
{
        char part[4200], src[4200];
        part_path(j, part, sizeof(part));
        snprintf(src, sizeof(src), "%s.source", j->dst);
        FILE *f = fopen(src, "we");
        if (!f)
                return -errno;
        fprintf(f, "%s\n", j->src);
        if (fclose(f) != 0)
                return -EIO;
        return rename(part, j->dst) < 0 ? -errno : 0;
}

static void on_exited(struct sup *s, const struct sup_exit *e, void *userdata)
{
        struct imp *j = userdata;
        char part[4200];
        int r = 0;
        (void)s;
        /* the rest of the output first: the error text may still sit in the pipe */
        if (j->fd >= 0)
                drain(j);
        if (j->linelen)
                line_done(j);
        finish(j);
        if (e->requested) {
                r = -ECANCELED;
                snprintf(j->last, sizeof(j->last), "stopped");
                log_obj(LOG_PRI_INFO, "vm", j->vm,
                        "%s: import of %s stopped at %.0f%%", j->vm, j->src, j->percent);
        } else if (e->signal || e->code != 0) {
                r = -EIO;
                if (!j->last[0]) {
                        char why[96];
                        sup_exit_text(e, why, sizeof(why));
                        snprintf(j->last, sizeof(j->last), "qemu-img %s", why);
                }
        } else if ((r = record(j)) < 0) {
                snprintf(j->last, sizeof(j->last), "%s: %s", j->dst, strerror(-r));
        }
        if (r < 0) {
                part_path(j, part, sizeof(part));
                unlink(part);
        } else {
                j->percent = 100;
        }
        if (j->done)
                j->done(j, r, j->userdata);
}

struct child_args {
        int out;
        const char *fmt, *src, *part;
};

static void child_exec(void *arg)
{
        const struct child_args *a = arg;
        int out = a->out;
        const char *fmt = a->fmt, *src = a->src, *part = a->part;
        const char *bin = getenv("NR_QEMU_IMG") ? getenv("NR_QEMU_IMG") : "qemu-img";
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
                dup2(devnull, 0);
        dup2(out, 1);
        dup2(out, 2);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a daemon killed hard takes its import along */
        if (setpriority(PRIO_PROCESS, 0, 10) < 0) {
                /* not fatal: the import just runs at normal priority */
        }
        execlp(bin, bin, "convert", "-p", "-f", fmt, "-O", "qcow2", "-c", src, part, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
}

int imp_start(struct imp *j, sd_event *ev, const char *vm, const char *fmt, const char *src,
              const char *dst, void (*done)(struct imp *, int, void *), void *userdata)
{
        int p[2], r;
        char part[4200];
        memset(j, 0, sizeof(*j));
        j->fd = -1;
        j->ev = ev;
        j->done = done;
        j->userdata = userdata;
        j->logged = 0;
        snprintf(j->vm, sizeof(j->vm), "%s", vm);
        j->src = strdup(src);
        j->dst = strdup(dst);
        if (!j->src || !j->dst)
                return -ENOMEM;
        part_path(j, part, sizeof(part));
        unlink(part); /* left by an earlier daemon that stopped mid-import */
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        sup_init(&j->sup, ev, "qemu-img", &policy, on_exited, j);
        struct child_args a = {.out = p[1], .fmt = fmt, .src = src, .part = part};
        pid_t pid = sup_start(&j->sup, child_exec, &a);
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                return pid;
        }
        j->fd = p[0];
        j->running = true;
        fcntl(j->fd, F_SETFL, fcntl(j->fd, F_GETFL) | O_NONBLOCK);
        if ((r = sd_event_add_io(ev, &j->io, j->fd, EPOLLIN, on_output, j)) < 0) {
                imp_cancel(j);
                return r;
        }
        log_obj(LOG_PRI_INFO, "vm", vm, "%s: importing %s (%s) to %s", vm, src, fmt, dst);
        return 0;
}

void imp_stop(struct imp *j)
{
        if (j->running)
                sup_stop(&j->sup);
}

void imp_cancel(struct imp *j)
{
        char part[4200];
        if (j->running && j->sup.pid > 0) {
                sup_close(&j->sup);
                part_path(j, part, sizeof(part));
                unlink(part);
                log_obj(LOG_PRI_INFO, "vm", j->vm,
                        "%s: import of %s stopped at %.0f%%", j->vm, j->src, j->percent);
        }
        sup_close(&j->sup); /* no child: drops nothing but the sources */
        finish(j);
        free(j->src);
        free(j->dst);
        j->src = j->dst = NULL;
}
