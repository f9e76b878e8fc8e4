/* Child processes on the sd-event loop (supervise.h). The loop never waits for a child: a stop
 * is a signal and a timer, the exit arrives through the child source like any other event. */
#include "lib/supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

static uint64_t realtime_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t sup_backoff_usec(const struct sup_policy *pol, unsigned fails)
{
        if (fails <= 1)
                return 0; /* the first restart is immediate */
        if (fails - 2 >= 63 || pol->first_usec > (pol->max_usec >> (fails - 2)))
                return pol->max_usec;
        return pol->first_usec << (fails - 2);
}

void sup_init(struct sup *s, sd_event *ev, const char *name, const struct sup_policy *pol,
              sup_exited_fn exited, void *userdata)
{
        memset(s, 0, sizeof(*s));
        s->ev = ev;
        snprintf(s->name, sizeof(s->name), "%s", name);
        s->pol = *pol;
        s->exited = exited;
        s->userdata = userdata;
}

static void forget(struct sup *s)
{
        s->child = sd_event_source_disable_unref(s->child);
        s->kill_timer = sd_event_source_disable_unref(s->kill_timer);
        s->pid = 0;
        s->stopping = false;
}

static void record_exit(struct sup *s, const siginfo_t *si)
{
        uint64_t now = now_usec();
        struct sup_exit *e = &s->last;
        bool killed = s->stopping && !s->kill_timer; /* the grace timer fired */
        e->pid = si->si_pid;
        e->code = si->si_code == CLD_EXITED ? si->si_status : -1;
        e->signal = si->si_code == CLD_EXITED ? 0 : si->si_status;
        e->requested = s->stopping;
        e->killed = killed;
        e->realtime_usec = realtime_usec();
        e->ran_usec = now - s->started_usec;
        if (e->requested)
                return; /* asked for: neither a crash nor a reason to wait */
        s->crashes++;
        s->fails_in_row = e->ran_usec > s->pol.stable_usec ? 1 : s->fails_in_row + 1;
        s->not_before_usec = now + sup_backoff_usec(&s->pol, s->fails_in_row);
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        struct sup *s = userdata;
        char why[96];
        (void)src;
        record_exit(s, si);
        forget(s);
        sup_exit_text(&s->last, why, sizeof(why));
        if (s->last.requested)
                log_info("%s (pid %d) %s", s->name, (int)s->last.pid, why);
        else
                log_warn("%s (pid %d) %s", s->name, (int)s->last.pid, why);
        if (s->exited)
                s->exited(s, &s->last, s->userdata);
        return 0;
}

pid_t sup_start(struct sup *s, void (*child)(void *arg), void *arg)
{
        if (s->pid)
                return -EBUSY;
        if (now_usec() < s->not_before_usec)
                return -EAGAIN;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                child(arg);
                _exit(127);
        }
        int r = sd_event_add_child(s->ev, &s->child, pid, WEXITED, on_child, s);
        if (r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return r;
        }
        s->pid = pid;
        s->starts++;
        s->started_usec = now_usec();
        return pid;
}

static int on_grace_over(sd_event_source *src, uint64_t usec, void *userdata)
{
        struct sup *s = userdata;
        (void)src, (void)usec;
        s->kill_timer = sd_event_source_disable_unref(s->kill_timer);
        log_notice("%s (pid %d) did not stop within %llu ms; killing it", s->name, (int)s->pid,
                   (unsigned long long)(s->pol.grace_usec / 1000));
        kill(s->pid, SIGKILL); /* reaped by the child source */
        return 0;
}

void sup_stop(struct sup *s)
{
        if (!s->pid || s->stopping)
                return;
        s->stopping = true;
        kill(s->pid, SIGTERM);
        /* the clock now, not the loop's (sd_event_now: when this iteration woke up) */
        if (sd_event_add_time(s->ev, &s->kill_timer, CLOCK_MONOTONIC, now_usec() + s->pol.grace_usec,
                              10000, on_grace_over, s) < 0) {
                s->kill_timer = NULL; /* no timer: no grace */
                kill(s->pid, SIGKILL);
        }
}

int sup_kill(struct sup *s, int sig)
{
        if (!sup_running(s))
                return -ESRCH;
        return kill(s->pid, sig) < 0 ? -errno : 0;
}

void sup_close(struct sup *s)
{
        pid_t pid = s->pid;
        if (pid) {
                s->child = sd_event_source_disable_unref(s->child);
                if (!s->stopping)
                        kill(pid, SIGTERM);
                uint64_t deadline = now_usec() + s->pol.grace_usec;
                while (waitpid(pid, NULL, WNOHANG) == 0) {
                        if (now_usec() >= deadline) {
                                kill(pid, SIGKILL);
                                waitpid(pid, NULL, 0);
                                break;
                        }
                        usleep(5000);
                }
        }
        forget(s);
}

void sup_exit_text(const struct sup_exit *e, char *buf, size_t size)
{
        const char *sig = e->signal ? sigabbrev_np(e->signal) : NULL;
        if (!e->realtime_usec)
                snprintf(buf, size, "never exited");
        else if (e->requested && e->killed)
                snprintf(buf, size, "killed (SIGKILL) after the stop grace period");
        else if (e->requested)
                snprintf(buf, size, "stopped (%s %d)", e->signal ? "signal" : "status",
                         e->signal ? e->signal : e->code);
        else if (e->signal)
                snprintf(buf, size, "killed by signal %d (%s)", e->signal, sig ? sig : "?");
        else
                snprintf(buf, size, "exited with status %d", e->code);
}

static uint64_t restart_in_usec(const struct sup *s)
{
        uint64_t now = now_usec();
        return !s->pid && s->not_before_usec > now ? s->not_before_usec - now : 0;
}

static void iso_time(uint64_t realtime_usec, char *buf, size_t size)
{
        time_t t = (time_t)(realtime_usec / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, size, "?");
}

void sup_status_json(const struct sup *s, struct nr_buf *b)
{
        const struct sup_exit *e = &s->last;
        char why[96], when[32];
        if (!e->realtime_usec) {
                buf_puts(b, ",\"last_exit\":null");
        } else {
                sup_exit_text(e, why, sizeof(why));
                iso_time(e->realtime_usec, when, sizeof(when));
                buf_printf(b, ",\"last_exit\":{\"pid\":%d,\"code\":%d,\"signal\":%d,"
                              "\"requested\":%s,\"at\":\"%s\",\"ran_ms\":%llu,\"reason\":\"%s\"}",
                           (int)e->pid, e->code, e->signal, e->requested ? "true" : "false", when,
                           (unsigned long long)(e->ran_usec / 1000), why);
        }
        buf_printf(b, ",\"stopping\":%s,\"fails_in_row\":%u,\"restart_in_ms\":%llu",
                   s->stopping ? "true" : "false", s->fails_in_row,
                   (unsigned long long)(restart_in_usec(s) / 1000));
}

void sup_status_text(const struct sup *s, char *buf, size_t size)
{
        const struct sup_exit *e = &s->last;
        char why[96], when[32], wait[48] = "";
        buf[0] = '\0';
        if (!e->realtime_usec)
                return;
        sup_exit_text(e, why, sizeof(why));
        iso_time(e->realtime_usec, when, sizeof(when));
        uint64_t left = restart_in_usec(s);
        if (left)
                snprintf(wait, sizeof(wait), "; restart in %.1f s", (double)left / 1e6);
        snprintf(buf, size, "last exit %s (pid %d): %s after %.1f s%s", when, (int)e->pid, why,
                 (double)e->ran_usec / 1e6, wait);
}
