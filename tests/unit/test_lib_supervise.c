/* daemon/lib: the child supervisor (real children: sh) and the debounced pass, on a private
 * sd-event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/debounce.h"
#include "lib/supervise.h"

static sd_event *ev;

static const struct sup_policy pol = {
        .first_usec = 200000, .max_usec = 1000000, .stable_usec = 5000000, .grace_usec = 300000,
};

struct seen {
        int n;
        struct sup_exit e;
};

static void on_exit_cb(struct sup *s, const struct sup_exit *e, void *userdata)
{
        struct seen *x = userdata;
        (void)s;
        x->n++;
        x->e = *e;
}

static void sh(void *arg)
{
        execl("/bin/sh", "sh", "-c", (const char *)arg, (char *)NULL);
}

/* runs the loop until the callback has been called n times (at most 5 s) */
static void run_until(const struct seen *x, int n)
{
        for (int i = 0; i < 500 && x->n < n; i++)
                sd_event_run(ev, 10000);
}

static void test_backoff(void **state)
{
        (void)state;
        assert_int_equal(sup_backoff_usec(&pol, 0), 0);
        assert_int_equal(sup_backoff_usec(&pol, 1), 0);  /* the first restart: at once */
        assert_int_equal(sup_backoff_usec(&pol, 2), 200000);
        assert_int_equal(sup_backoff_usec(&pol, 3), 400000);
        assert_int_equal(sup_backoff_usec(&pol, 4), 800000);
        assert_int_equal(sup_backoff_usec(&pol, 5), 1000000); /* capped */
        assert_int_equal(sup_backoff_usec(&pol, 200), 1000000);
}

static void test_exit_reasons(void **state)
{
        struct sup s;
        struct seen x = {0};
        char text[200];
        (void)state;
        sup_init(&s, ev, "t", &pol, on_exit_cb, &x);
        sup_status_text(&s, text, sizeof(text));
        assert_string_equal(text, ""); /* never exited */

        pid_t pid = sup_start(&s, sh, "exit 3");
        assert_true(pid > 0);
        assert_true(sup_running(&s));
        assert_int_equal(sup_start(&s, sh, "exit 0"), -EBUSY); /* one child at a time */
        run_until(&x, 1);
        assert_int_equal(x.n, 1);
        assert_int_equal(x.e.pid, pid);
        assert_int_equal(x.e.code, 3);
        assert_int_equal(x.e.signal, 0);
        assert_false(x.e.requested);
        assert_true(x.e.realtime_usec > 0);
        assert_int_equal(s.pid, 0);
        assert_int_equal(s.crashes, 1);
        assert_int_equal(s.fails_in_row, 1);
        sup_exit_text(&x.e, text, sizeof(text));
        assert_string_equal(text, "exited with status 3");

        /* the first restart is immediate; the second exit in a row makes the next wait */
        assert_true(sup_start(&s, sh, "kill -KILL $$") > 0);
        run_until(&x, 2);
        assert_int_equal(x.e.code, -1);
        assert_int_equal(x.e.signal, SIGKILL);
        assert_int_equal(s.fails_in_row, 2);
        assert_true(s.not_before_usec > now_usec() + 100000);
        assert_int_equal(sup_start(&s, sh, "exit 0"), -EAGAIN);
        sup_exit_text(&x.e, text, sizeof(text));
        assert_string_equal(text, "killed by signal 9 (KILL)");
        sup_status_text(&s, text, sizeof(text));
        assert_non_null(strstr(text, "killed by signal 9 (KILL)"));
        assert_non_null(strstr(text, "restart in 0."));

        struct nr_buf b = {0};
        sup_status_json(&s, &b);
        char *j = buf_finish(&b);
        assert_non_null(j);
        assert_non_null(strstr(j, "\"last_exit\":{\"pid\":"));
        assert_non_null(strstr(j, "\"code\":-1,\"signal\":9,\"requested\":false"));
        assert_non_null(strstr(j, "\"fails_in_row\":2"));
        free(j);
        assert_int_equal(s.starts, 2);
        assert_int_equal(s.crashes, 2);
        sup_close(&s);
}

/* A child that ignores SIGTERM: sup_stop returns at once, the loop keeps turning, and the
 * child is killed when the grace period is over. */
static void test_stop_does_not_block(void **state)
{
        struct sup s;
        struct seen x = {0};
        (void)state;
        sup_init(&s, ev, "t", &pol, on_exit_cb, &x);
        assert_true(sup_start(&s, sh, "trap '' TERM; echo >/dev/null; exec sleep 30") > 0);
        usleep(100000); /* let sh install its trap */
        uint64_t t0 = now_usec();
        sup_stop(&s);
        uint64_t t1 = now_usec();
        assert_true(t1 - t0 < 50000);
        assert_true(s.stopping);
        assert_false(sup_running(&s));
        assert_int_equal(sup_start(&s, sh, "exit 0"), -EBUSY); /* not before it has gone */
        assert_int_equal(sup_kill(&s, SIGHUP), -ESRCH);
        sup_stop(&s); /* again: nothing more */
        int turns = 0;
        for (int i = 0; i < 500 && x.n < 1; i++, turns++)
                sd_event_run(ev, 10000);
        uint64_t t2 = now_usec();
        assert_int_equal(x.n, 1);
        assert_true(turns > 5); /* the loop turned meanwhile */
        assert_true(t2 - t0 >= pol.grace_usec);
        assert_true(t2 - t0 < pol.grace_usec + 2000000);
        assert_true(x.e.requested);
        assert_true(x.e.killed);
        assert_int_equal(x.e.signal, SIGKILL);
        assert_int_equal(s.crashes, 0); /* asked for: no crash, no backoff */
        assert_int_equal(s.fails_in_row, 0);
        assert_true(sup_start(&s, sh, "exec sleep 30") > 0); /* at once */

        /* a child that obeys SIGTERM: gone well before the grace period */
        usleep(50000);
        t0 = now_usec();
        sup_stop(&s);
        run_until(&x, 2);
        assert_int_equal(x.n, 2);
        assert_true(now_usec() - t0 < pol.grace_usec);
        assert_true(x.e.requested);
        assert_false(x.e.killed);
        assert_int_equal(x.e.signal, SIGTERM);
        sup_close(&s);
}

/* at exit: sup_close waits, bounded, and does not call back */
static void test_close(void **state)
{
        struct sup s;
        struct seen x = {0};
        (void)state;
        sup_init(&s, ev, "t", &pol, on_exit_cb, &x);
        pid_t pid = sup_start(&s, sh, "trap '' TERM; echo >/dev/null; exec sleep 30");
        assert_true(pid > 0);
        usleep(100000);
        uint64_t t0 = now_usec();
        sup_close(&s);
        assert_true(now_usec() - t0 < pol.grace_usec + 500000);
        assert_int_equal(kill(pid, 0), -1); /* reaped */
        assert_int_equal(s.pid, 0);
        assert_int_equal(x.n, 0);
}

struct runs {
        int n;
        uint64_t at;
};

static void on_run(void *userdata)
{
        struct runs *r = userdata;
        r->n++;
        r->at = now_usec();
}

static void test_debounce(void **state)
{
        struct debounce p;
        struct runs r = {0};
        uint64_t when;
        (void)state;
        debounce_init(&p, ev, on_run, &r);
        assert_false(debounce_pending(&p, NULL));
        sd_event_run(ev, 0); /* timers count from the loop's last wake-up: make it now */
        uint64_t t0 = now_usec();
        assert_int_equal(debounce_schedule(&p, 200000), 0);
        assert_int_equal(debounce_schedule(&p, 500000), 0); /* later: changes nothing */
        assert_true(debounce_pending(&p, &when));
        assert_int_equal(debounce_schedule(&p, 20000), 0);  /* earlier: wins */
        for (int i = 0; i < 100 && !r.n; i++)
                sd_event_run(ev, 10000);
        assert_int_equal(r.n, 1);
        assert_true(r.at - t0 >= 10000 && r.at - t0 < 150000);
        assert_false(debounce_pending(&p, NULL));
        for (int i = 0; i < 30; i++) /* nothing else was left pending */
                sd_event_run(ev, 10000);
        assert_int_equal(r.n, 1);
        for (int i = 0; i < 10; i++) /* a burst: one run */
                debounce_schedule(&p, 0);
        for (int i = 0; i < 10; i++)
                sd_event_run(ev, 5000);
        assert_int_equal(r.n, 2);
        debounce_schedule(&p, 0);
        debounce_cancel(&p);
        for (int i = 0; i < 10; i++)
                sd_event_run(ev, 5000);
        assert_int_equal(r.n, 2);
        debounce_free(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_backoff),   cmocka_unit_test(test_exit_reasons),
                cmocka_unit_test(test_stop_does_not_block), cmocka_unit_test(test_close),
                cmocka_unit_test(test_debounce),
        };
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD); /* sd-event child sources need it blocked */
        sigprocmask(SIG_BLOCK, &ss, NULL);
        assert_int_equal(sd_event_new(&ev), 0);
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        sd_event_unref(ev);
        return r;
}
