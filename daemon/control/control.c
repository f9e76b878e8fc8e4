/* Control socket. Connections are non-blocking: a request line is gathered as it arrives and the
 * answer sent as the client takes it, so no client ever holds the loop; each has a deadline for
 * the whole exchange, and at the cap the oldest client still silent is dropped for a new one.
 * `vm start|stop` are answered later, when the virt helper is done, and `drain` once BIRD has
 * sent the withdraw (the loop does not wait for either). */
#include "control/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "core/lib/strbuf.h"
#include "daemon.h"
#include "lib/log.h"

struct nr_reply {
        int code;
        char *body;
};

static void reply(struct nr_reply *rep, int code, char *body)
{
        rep->code = code;
        rep->body = body;
}

static char *reload_report(struct nr_daemon *d, int r, unsigned confirm_s)
{
        struct nr_buf b = {0};
        unsigned left;
        if (r == 0)
                buf_printf(&b, "%s: configuration loaded\n", d->o.config);
        if (r == 0 && confirm_s && confirm_pending(d, &left))
                buf_printf(&b, "%s: rolls back in %u s unless `nestrouterctl confirm`\n",
                           d->o.config, left);
        else if (r == 0 && confirm_s)
                buf_printf(&b, "%s: nothing ran before it, so there is nothing to roll back to\n",
                           d->o.config);
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

/* Returns true when the request took fd (an answer that comes later: the virt helper, a drain). */
static bool handle(struct nr_daemon *d, int fd, const char *req, struct nr_reply *rep)
{
        bool json = strstr(req, "json") != NULL;
        if (!strncmp(req, "vm ", 3) || !strcmp(req, "vm") || !strncmp(req, "guests ", 7)) {
                char *body;
                int code = virtb_command(&d->virt, req, fd, &body);
                if (code == VIRTB_DEFERRED)
                        return true;
                reply(rep, code, body);
        } else if (!strncmp(req, "status", 6)) {
                reply(rep, 0, daemon_status(d, json));
        } else if (!strncmp(req, "leases", 6)) {
                reply(rep, 0, daemon_leases(d, json));
        } else if (!strncmp(req, "reload", 6)) {
                unsigned secs = 0;
                if (strstr(req, "confirm") &&
                    (sscanf(req, "reload confirm %u", &secs) != 1 || secs < 1 || secs > 3600)) {
                        reply(rep, 2, strdup("reload --confirm SECONDS: 1 to 3600 seconds\n"));
                        return false;
                }
                int r = daemon_reload_confirm(d, secs);
                reply(rep, r < 0 ? 1 : 0, reload_report(d, r, secs));
        } else if (!strcmp(req, "confirm")) {
                int r = confirm_accept(d);
                char *msg = NULL;
                if (asprintf(&msg, r < 0 ? "%s: no reload is waiting for confirmation\n"
                                         : "%s: confirmed; no rollback\n",
                             d->o.config) < 0)
                        msg = NULL;
                reply(rep, r < 0 ? 1 : 0, msg);
        } else if (!strncmp(req, "plan", 4)) {
                reply(rep, 0, daemon_plan_text(d));
        } else if (!strcmp(req, "metrics")) {
                reply(rep, 0, daemon_metrics(d));
        } else if (!strcmp(req, "drain") || !strcmp(req, "undrain") ||
                   !strcmp(req, "drain until-reboot")) {
                char *msg;
                bool until_reboot = strchr(req, ' ') != NULL;
                int r = daemon_drain(d, req[0] == 'd', until_reboot, &msg);
                /* a drain is answered once BIRD has sent the withdraw (drain.c) */
                if (r >= 0 && req[0] == 'd' && daemon_drain_wait(d, fd, until_reboot, false)) {
                        free(msg);
                        return true;
                }
                reply(rep, r < 0 ? 1 : 0, msg);
        } else {
                char *msg = NULL;
                if (asprintf(&msg,
                             "unknown command '%s' (status, leases, reload, confirm, plan, vm, drain, undrain)\n",
                             req) < 0)
                        msg = NULL;
                reply(rep, 2, msg);
        }
        return false;
}

/* A client: its request line comes in, then its answer goes out, both without blocking; the
 * whole exchange has one deadline. */
struct ctl_client {
        struct ctl_client *next;
        struct nr_control *c;
        int fd;
        sd_event_source *io, *timer;
        char req[512];
        size_t n;
        char *out;                 /* "exit N\n" + body, once answered */
        size_t out_len, out_off;
};

static void client_free(struct ctl_client *k)
{
        struct nr_control *c = k->c;
        for (struct ctl_client **pp = &c->clients; *pp; pp = &(*pp)->next)
                if (*pp == k) {
                        *pp = k->next;
                        break;
                }
        c->n_clients--;
        sd_event_source_disable_unref(k->io);
        sd_event_source_disable_unref(k->timer);
        if (k->fd >= 0)
                close(k->fd);
        free(k->out);
        free(k);
}

/* Returns 1 when everything was written, 0 when the socket is full, <0 when the client went. */
static int client_flush(struct ctl_client *k)
{
        while (k->out_off < k->out_len) {
                ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0;
                if (w <= 0)
                        return -EPIPE;
                k->out_off += (size_t)w;
        }
        return 1;
}

static void client_answer(struct ctl_client *k)
{
        k->req[k->n] = '\0';
        k->req[strcspn(k->req, "\r\n")] = '\0';
        struct nr_reply rep = {0};
        if (handle(k->c->d, k->fd, k->req, &rep)) {
                k->fd = -1; /* the virt helper answers it later and closes it */
                client_free(k);
                return;
        }
        char head[32];
        int hl = snprintf(head, sizeof(head), "exit %d\n", rep.code);
        size_t bl = rep.body ? strlen(rep.body) : 0;
        k->out = malloc((size_t)hl + bl + 1);
        if (!k->out) {
                free(rep.body);
                client_free(k);
                return;
        }
        memcpy(k->out, head, (size_t)hl);
        if (bl)
                memcpy(k->out + hl, rep.body, bl);
        free(rep.body);
        k->out_len = (size_t)hl + bl;
        int r = client_flush(k);
        if (r != 0 || sd_event_source_set_io_events(k->io, EPOLLOUT) < 0)
                client_free(k);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct ctl_client *k = userdata;
        (void)s, (void)revents;
        if (k->out) {
                if (client_flush(k) != 0)
                        client_free(k);
                return 0;
        }
        /* what is there now, never more: a client sending a byte a second costs one read each */
        ssize_t r = read(fd, k->req + k->n, sizeof(k->req) - 1 - k->n);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (r > 0)
                k->n += (size_t)r;
        bool line = r > 0 && memchr(k->req, '\n', k->n);
        if (line || k->n == sizeof(k->req) - 1 || (r == 0 && k->n))
                client_answer(k);
        else if (r <= 0)
                client_free(k);
        return 0;
}

static int on_client_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct ctl_client *k = userdata;
        (void)s, (void)usec;
        k->c->dropped_slow++;
        client_free(k);
        return 0;
}

/* At the cap, the client that has waited longest without sending its request makes room: a
 * crowd of silent connections can never keep `status` out. */
static bool client_evict_oldest_reader(struct nr_control *c)
{
        struct ctl_client *victim = NULL;
        for (struct ctl_client *k = c->clients; k; k = k->next)
                if (!k->out)
                        victim = k; /* the list is newest first: the last one is the oldest */
        if (!victim)
                return false;
        c->dropped_slow++;
        client_free(victim);
        return true;
}

static void client_new(struct nr_control *c, int fd)
{
        if (c->n_clients >= NR_CONTROL_MAX_CLIENTS && !client_evict_oldest_reader(c)) {
                close(fd);
                return;
        }
        struct ctl_client *k = calloc(1, sizeof(*k));
        uint64_t now;
        if (!k) {
                close(fd);
                return;
        }
        k->c = c;
        k->fd = fd;
        k->next = c->clients;
        c->clients = k;
        c->n_clients++;
        sd_event_now(c->d->ev, CLOCK_MONOTONIC, &now);
        if (sd_event_add_io(c->d->ev, &k->io, fd, EPOLLIN, on_client_io, k) < 0 ||
            sd_event_add_time(c->d->ev, &k->timer, CLOCK_MONOTONIC,
                              now + NR_CONTROL_DEADLINE_USEC, 10000, on_client_deadline, k) < 0)
                client_free(k);
}

static int on_accept(sd_event_source *s, int lfd, uint32_t revents, void *userdata)
{
        struct nr_control *c = userdata;
        (void)s, (void)revents;
        /* a bounded batch per wakeup, so a flood of connections shares the loop with the rest */
        for (int i = 0; i < 32; i++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0)
                        break;
                client_new(c, fd);
        }
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
        if (r < 0 || listen(c->fd, 128) < 0)
                return log_err_errno(-errno, "%s: %m", c->path);
        return sd_event_add_io(d->ev, &c->src, c->fd, EPOLLIN, on_accept, c);
}

void control_close(struct nr_control *c)
{
        while (c->clients)
                client_free(c->clients);
        c->src = sd_event_source_disable_unref(c->src);
        if (c->fd >= 0) {
                close(c->fd);
                unlink(c->path);
        }
        c->fd = -1;
}
