/* Commit-confirmed reloads: the rollback target, its deadline, and the copy in the state dir
 * that makes a restart during the window roll back too. */
#include "control/confirm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "daemon.h"
#include "lib/fileio.h"
#include "lib/log.h"

static void saved_path(const struct nr_daemon *d, char *buf, size_t size)
{
        snprintf(buf, size, "%s/confirm.previous.yaml", d->o.state_dir);
}

static void free_target(struct nr_confirm *c)
{
        confirm_drop(c->prev, c->prev_text);
        c->prev = NULL;
        c->prev_text = NULL;
        c->timer = sd_event_source_disable_unref(c->timer);
}

bool confirm_pending(const struct nr_daemon *d, unsigned *seconds_left)
{
        const struct nr_confirm *c = &d->confirm;
        if (!c->timer)
                return false;
        if (seconds_left) {
                uint64_t now = 0;
                sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
                *seconds_left = c->deadline_usec > now
                                        ? (unsigned)((c->deadline_usec - now + 999999) / 1000000)
                                        : 0;
        }
        return true;
}

/* Writes text over the configuration file, keeping the file it replaces as FILE.unconfirmed
 * (what the admin wrote, to look at again). The mode stays the file's. */
static int restore_file(struct nr_daemon *d, const char *text)
{
        char keep[4200];
        struct stat st;
        mode_t mode = stat(d->o.config, &st) == 0 ? (st.st_mode & 07777) : 0600;
        snprintf(keep, sizeof(keep), "%s.unconfirmed", d->o.config);
        if (rename(d->o.config, keep) < 0 && errno != ENOENT)
                log_warn_errno(-errno, "%s: cannot keep it as %s: %m", d->o.config, keep);
        int r = file_write_atomic(d->o.config, text, mode);
        if (r < 0)
                return log_err_errno(r, "%s: cannot write the previous configuration back: %m",
                                     d->o.config);
        log_warn("%s: the unconfirmed file is kept as %s", d->o.config, keep);
        return 0;
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct nr_daemon *d = userdata;
        struct nr_confirm *c = &d->confirm;
        char path[4200];
        (void)s, (void)usec;
        log_warn("%s: reload not confirmed within %u s: rolling back to the previous "
                 "configuration",
                 d->o.config, c->seconds);
        restore_file(d, c->prev_text);
        struct nr_config *cur;
        char *cur_text;
        daemon_adopt_config(d, c->prev, c->prev_text, &cur, &cur_text);
        c->prev = NULL;
        c->prev_text = NULL;
        free_target(c);
        confirm_drop(cur, cur_text);
        diag_free(&d->errors);
        c->rolled_back++;
        saved_path(d, path, sizeof(path));
        unlink(path);
        return 0;
}

int confirm_begin(struct nr_daemon *d, struct nr_config *old, char *old_text, unsigned seconds)
{
        struct nr_confirm *c = &d->confirm;
        char path[4200];
        uint64_t now;
        sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
        if (c->timer) {
                /* already open: the target stays the configuration from before the window */
                confirm_drop(old, old_text);
                c->seconds = seconds;
                c->deadline_usec = now + (uint64_t)seconds * 1000000;
                return sd_event_source_set_time(c->timer, c->deadline_usec);
        }
        c->prev = old;
        c->prev_text = old_text;
        c->seconds = seconds;
        c->deadline_usec = now + (uint64_t)seconds * 1000000;
        saved_path(d, path, sizeof(path));
        int r = file_write_atomic(path, old_text ? old_text : "", 0600);
        if (r < 0)
                log_warn_errno(r, "%s: cannot save the previous configuration (a restart during "
                               "the window would not roll back): %m",
                               path);
        r = sd_event_add_time(d->ev, &c->timer, CLOCK_MONOTONIC, c->deadline_usec, 100000,
                              on_deadline, d);
        if (r < 0)
                return log_err_errno(r, "confirm timer: %m");
        log_notice("%s: applied; it rolls back in %u s unless `nestrouterctl confirm`",
                   d->o.config, seconds);
        return 0;
}

void confirm_drop(struct nr_config *old, char *old_text)
{
        if (old) {
                cfg_free(old);
                free(old);
        }
        free(old_text);
}

int confirm_accept(struct nr_daemon *d)
{
        struct nr_confirm *c = &d->confirm;
        char path[4200];
        if (!c->timer)
                return -ENOENT;
        free_target(c);
        c->confirmed++;
        saved_path(d, path, sizeof(path));
        unlink(path);
        log_notice("%s: confirmed", d->o.config);
        return 0;
}

void confirm_recover(struct nr_daemon *d)
{
        char path[4200];
        size_t len = 0;
        saved_path(d, path, sizeof(path));
        char *text = file_read(path, &len);
        if (!text)
                return;
        log_warn("%s: a reload was still waiting for confirmation when nestrouterd stopped: "
                 "rolling back to the configuration from before it",
                 d->o.config);
        if (restore_file(d, text) == 0)
                unlink(path);
        d->confirm.rolled_back++;
        free(text);
}

void confirm_close(struct nr_confirm *c)
{
        free_target(c);
}
