/* The libvirt side on libvirt's test driver (test:///default: no daemon, private state per
 * connection, shutdown is instant and rejects the ACPI flag): ownership by metadata, a changed
 * definition of a running guest (pending until it restarts), foreign domains left alone, the
 * clean-shutdown job (clean, forced after the timeout, --force, not running), and the
 * sd-event bridge of virEventRegisterImpl that delivers the lifecycle events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "backend/virt/shutdown.h"
#include "backend/virt/virt_dom.h"
#include "backend/virt/virt_event.h"
#include "core/render/render_domain.h"

/* libvirt keeps per-process state (error objects, the driver registry) until exit */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
        return "leak:libvirt.so\nleak:libglib\nleak:libxml2\n";
}

static sd_event *ev;

static virConnectPtr open_test(void)
{
        virConnectPtr c = virConnectOpen("test:///default");
        assert_non_null(c);
        return c;
}

/* a guest as nestrouter renders it (TCG, direct kernel boot: no files are touched) */
static void make_vm(struct nr_vm *vm, const char *name, uint64_t mem_mib)
{
        memset(vm, 0, sizeof(*vm));
        snprintf(vm->name, sizeof(vm->name), "%s", name);
        vm->kernel = (char *)"/nonexistent/vmlinuz";
        vm->vcpus = 1;
        vm->memory = mem_mib << 20;
        vm->cpu_mode = NR_CPU_HOST_MODEL;
        cfg_vm_default_mac(name, vm->mac);
        vm->autostart = true;
}

static void render(const char *name, uint64_t mem_mib, struct nr_domain *d)
{
        struct nr_vm vm;
        make_vm(&vm, name, mem_mib);
        struct nr_domain_in in = {.vm = &vm, .accel = NR_ACCEL_TCG, .bridge = "nr0",
                                  .console_path = "/nonexistent/console.log"};
        assert_int_equal(render_domain(&in, d), 0);
}

static void define(virConnectPtr c, const char *name, uint64_t mem_mib, char hash[17])
{
        struct nr_domain d;
        char err[256];
        render(name, mem_mib, &d);
        assert_int_equal(virt_define(c, d.xml, err, sizeof(err)), 0);
        if (hash)
                memcpy(hash, d.hash, 17);
        render_domain_free(&d);
}

static void list(virConnectPtr c, struct virt_doms *doms)
{
        char err[256];
        assert_int_equal(virt_list(c, doms, err, sizeof(err)), 0);
}

static void test_owned_and_hashes(void **state)
{
        virConnectPtr c = open_test();
        struct virt_doms doms;
        char h1[17], h2[17], err[256];
        (void)state;
        define(c, "g1", 128, h1);
        list(c, &doms);
        const struct virt_dom *d = virt_find(&doms, "g1");
        assert_non_null(d);
        assert_true(d->owned);
        assert_true(d->persistent);
        assert_false(d->active);
        assert_string_equal(d->conf_hash, h1);
        assert_string_equal(d->live_hash, "");
        /* test:///default's own domain has no metadata of ours: not ours */
        const struct virt_dom *t = virt_find(&doms, "test");
        assert_non_null(t);
        assert_false(t->owned);
        virt_doms_free(&doms);

        assert_int_equal(virt_start(c, "g1", err, sizeof(err)), 0);
        /* a new definition while it runs: libvirt keeps it for the next start */
        define(c, "g1", 256, h2);
        assert_string_not_equal(h1, h2);
        list(c, &doms);
        d = virt_find(&doms, "g1");
        assert_true(d->active);
        assert_string_equal(d->live_hash, h1);  /* still running the old one: pending */
        assert_string_equal(d->conf_hash, h2);
        assert_string_equal(virt_state_name(d->state), "running");
        assert_string_equal(virt_reason_name(d->state, d->reason), "booted");
        virt_doms_free(&doms);

        assert_int_equal(virt_undefine(c, "g1", err, sizeof(err)), 0);
        list(c, &doms);
        d = virt_find(&doms, "g1"); /* transient now: runs on, still recognisably ours */
        assert_non_null(d);
        assert_true(d->owned && d->active && !d->persistent);
        virt_doms_free(&doms);
        assert_int_equal(virt_start(c, "nosuch", err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "not found"));
        virConnectClose(c);
}

struct run {
        bool done;
};

static void on_done(struct virt_shutdown *s, void *userdata)
{
        struct run *r = userdata;
        (void)s;
        r->done = true;
}

/* runs the loop until the job is done, at most `secs` */
static void run_until(struct run *r, unsigned secs)
{
        for (unsigned i = 0; i < secs * 100 && !r->done; i++)
                sd_event_run(ev, 10000);
        assert_true(r->done);
}

static void start_guests(virConnectPtr c, const char *const *names, size_t n)
{
        char err[256];
        for (size_t i = 0; i < n; i++) {
                define(c, names[i], 128, NULL);
                assert_int_equal(virt_start(c, names[i], err, sizeof(err)), 0);
        }
}

static void test_shutdown_clean(void **state)
{
        virConnectPtr c = open_test();
        struct virt_shutdown s = {0};
        struct run r = {0};
        char *names[] = {(char *)"c1", (char *)"c2"};
        (void)state;
        start_guests(c, (const char *const *)names, 2);
        assert_int_equal(virt_shutdown_start(&s, c, ev, names, 2, 5, false, on_done, &r), 0);
        run_until(&r, 5);
        assert_int_equal(virt_shutdown_count(&s, VIRT_SD_CLEAN), 2);
        struct nr_buf b = {0};
        virt_shutdown_report(&s, &b);
        char *txt = buf_finish(&b);
        assert_non_null(strstr(txt, "c1: clean, powered off"));
        assert_non_null(strstr(txt, "c2: clean, powered off"));
        free(txt);
        virt_shutdown_free(&s);
        struct virt_doms doms;
        list(c, &doms);
        const struct virt_dom *d = virt_find(&doms, "c2");
        assert_string_equal(virt_state_name(d->state), "shut off");
        assert_string_equal(virt_reason_name(d->state, d->reason), "shutdown");
        virt_doms_free(&doms);
        virConnectClose(c);
}

/* a guest that ignores ACPI: nothing happens until the deadline, then it is destroyed */
static int ignore_acpi(virDomainPtr d, char *err, size_t errlen)
{
        (void)d, (void)err, (void)errlen;
        return 0;
}

static void test_shutdown_forced(void **state)
{
        virConnectPtr c = open_test();
        struct virt_shutdown s = {0};
        struct run r = {0};
        char *names[] = {(char *)"deaf"};
        (void)state;
        start_guests(c, (const char *const *)names, 1);
        s.request = ignore_acpi;
        assert_int_equal(virt_shutdown_start(&s, c, ev, names, 1, 1, false, on_done, &r), 0);
        assert_false(r.done);
        run_until(&r, 4);
        assert_int_equal(s.g[0].result, VIRT_SD_FORCED);
        assert_true(s.g[0].usec >= 1000000);
        assert_non_null(strstr(s.g[0].detail, "did not power off within 1 s; destroyed"));
        virt_shutdown_free(&s);
        struct virt_doms doms;
        list(c, &doms);
        const struct virt_dom *d = virt_find(&doms, "deaf");
        assert_string_equal(virt_reason_name(d->state, d->reason), "destroyed");
        virt_doms_free(&doms);
        virConnectClose(c);
}

static void test_shutdown_force_and_not_running(void **state)
{
        virConnectPtr c = open_test();
        struct virt_shutdown s = {0};
        struct run r = {0};
        char *names[] = {(char *)"up", (char *)"down", (char *)"nosuch"};
        (void)state;
        start_guests(c, (const char *const *)names, 1);
        define(c, "down", 128, NULL);
        assert_int_equal(virt_shutdown_start(&s, c, ev, names, 3, 30, true, on_done, &r), 0);
        run_until(&r, 1); /* nothing to wait for */
        assert_int_equal(s.g[0].result, VIRT_SD_FORCED);
        assert_int_equal(s.g[1].result, VIRT_SD_NOT_RUNNING);
        assert_string_equal(s.g[1].detail, "already shut off");
        assert_int_equal(s.g[2].result, VIRT_SD_NOT_RUNNING);
        assert_string_equal(virt_sd_result_name(VIRT_SD_FORCED), "forced");
        virt_shutdown_free(&s);
        virConnectClose(c);
}

static int count_events(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
        (void)c, (void)d, (void)detail;
        *(int *)opaque += event == VIR_DOMAIN_EVENT_STARTED;
        return 0;
}

/* the bridge: libvirt's watches and timers come and go through sd-event, events arrive */
static void test_event_bridge(void **state)
{
        (void)state;
        unsigned before = virt_event_count();
        virConnectPtr c = open_test();
        char err[256];
        int started = 0;
        int id = virConnectDomainEventRegisterAny(c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                  VIR_DOMAIN_EVENT_CALLBACK(count_events),
                                                  &started, NULL);
        assert_true(id >= 0);
        assert_true(virt_event_count() > before); /* the event queue's timer */
        define(c, "ev1", 64, NULL);
        assert_int_equal(virt_start(c, "ev1", err, sizeof(err)), 0);
        for (int i = 0; i < 100 && !started; i++)
                sd_event_run(ev, 10000);
        assert_int_equal(started, 1);
        virConnectDomainEventDeregisterAny(c, id);
        virConnectClose(c);
        for (int i = 0; i < 10; i++)
                sd_event_run(ev, 1000); /* deferred frees */
        assert_int_equal(virt_event_count(), before);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_owned_and_hashes),
                cmocka_unit_test(test_shutdown_clean),
                cmocka_unit_test(test_shutdown_forced),
                cmocka_unit_test(test_shutdown_force_and_not_running),
                cmocka_unit_test(test_event_bridge),
        };
        assert_int_equal(sd_event_new(&ev), 0);
        virt_event_register(ev);
        virt_quiet_errors();
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        sd_event_unref(ev);
        return r;
}
