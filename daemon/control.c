/* Control socket. Requests are tiny and answered at once; a client that does not send its line
 * within a second is dropped, so a stuck client never stalls route repair. `vm start|stop` are
 * answered later, when the virt helper is done (the loop does not wait for it). */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "daemon.h"
#include "log.h"

static void send_all(int fd, const char *s)
{
        size_t len = strlen(s), off = 0;
        while (off < len) {
                ssize_t w = write(fd, s + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                off += (size_t)w;
        }
}

static void reply(int fd, int code, char *body)
{
        char head[32];
        snprintf(head, sizeof(head), "exit %d\n", code);
        send_all(fd, head);
        if (body)
                send_all(fd, body);
        free(body);
}

static char *reload_report(struct nr_daemon *d, int r)
{
        struct nr_buf b = {0};
        if (r == 0)
                buf_printf(&b, "%s: configuration loaded\n", d->o.config);
        for (size_t i = 0; i < d->errors.n; i++) {
                const struct nr_diag *g = &d->errors.v[i];
                buf_printf(&b, "%s:%d:%d: %s: %s%s%s\n", d->o.config, g->line, g->col,
                           g->sev == NR_SEV_ERROR ? "error" : "warning", g->path,
                           g->path[0] ? ": " : "", g->msg);
        }
        if (r < 0)
                buf_printf(&b, "%s: rejected; %s\n", d->o.config,
                           d->cfg ? "the running configuration stays" : "nothing is applied");
        return buf_finish(&b);
}

/* Returns true when the request took fd (an answer that comes later, from the virt helper). */
static bool handle(struct nr_daemon *d, int fd, const char *req)
{
        bool json = strstr(req, "json") != NULL;
        if (!strncmp(req, "vm ", 3) || !strcmp(req, "vm") || !strncmp(req, "guests ", 7)) {
                char *body;
                int code = virtb_command(&d->virt, req, fd, &body);
                if (code == VIRTB_DEFERRED)
                        return true;
                reply(fd, code, body);
        } else if (!strncmp(req, "status", 6)) {
                reply(fd, 0, daemon_status(d, json));
        } else if (!strncmp(req, "leases", 6)) {
                reply(fd, 0, daemon_leases(d, json));
        } else if (!strncmp(req, "reload", 6)) {
                int r = daemon_reload(d);
                reply(fd, r < 0 ? 1 : 0, reload_report(d, r));
        } else if (!strncmp(req, "plan", 4)) {
                reply(fd, 0, daemon_plan_text(d));
        } else if (!strcmp(req, "metrics")) {
                reply(fd, 0, daemon_metrics(d));
        } else {
                char *msg = NULL;
                if (asprintf(&msg, "unknown command '%s' (status, leases, reload, plan, vm)\n",
                             req) < 0)
                        msg = NULL;
                reply(fd, 2, msg);
        }
        return false;
}

static int on_accept(sd_event_source *s, int lfd, uint32_t revents, void *userdata)
{
        struct nr_control *c = userdata;
        (void)s, (void)revents;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return 0;
        struct timeval tv = {.tv_sec = 1};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        char req[512];
        size_t n = 0;
        while (n < sizeof(req) - 1) {
                ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
                if (memchr(req, '\n', n))
                        break;
        }
        req[n] = '\0';
        req[strcspn(req, "\r\n")] = '\0';
        if (!n || !handle(c->d, fd, req))
                close(fd);
        return 0;
}

int control_open(struct nr_control *c, struct nr_daemon *d)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        c->d = d;
        c->fd = -1;
        if ((size_t)snprintf(c->path, sizeof(c->path), "%s/control.sock", d->o.run_dir) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, c->path);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0)
                return -errno;
        unlink(c->path);
        mode_t old = umask(0077); /* 0600: the socket can reload and reveal the topology */
        int r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0 || listen(c->fd, 16) < 0)
                return log_err_errno(-errno, "%s: %m", c->path);
        return sd_event_add_io(d->ev, &c->src, c->fd, EPOLLIN, on_accept, c);
}

void control_close(struct nr_control *c)
{
        c->src = sd_event_source_disable_unref(c->src);
        if (c->fd >= 0) {
                close(c->fd);
                unlink(c->path);
        }
        c->fd = -1;
}
