/* The virt helper process end to end on libvirt's test driver, spoken to over its socketpair the
 * way nestrouterd does (chan.c). It carries out the guests' engine ops (what to do is planned by
 * the daemon: core/model/plan.c, tests/golden/engine/vm-*.txt): `define` defines and never over
 * a foreign domain, `autostart` starts once per boot, `undefine` leaves a running guest running;
 * each op is answered after a snapshot of every domain. `stop` shuts a guest down cleanly and an
 * autostart does not bring it back, `start` does, a changed definition of a running guest is
 * stored for its next start.
 * Also the pieces around it: the KVM probe (bounded time, cached), disk imports with qemu-img
 * (progress, the .source record, failures leave nothing behind) and the message channel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "backend/virt/chan.h"
#include "backend/virt/import.h"
#include "backend/virt/kvm_probe.h"
#include "backend/virt/virt.h"
#include "core/render/render_domain.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
        return "leak:libvirt.so\nleak:libglib\nleak:libxml2\n";
}

static sd_event *ev;
static char tmpdir[PATH_MAX];

/* ---- talking to the helper -------------------------------------------------------------- */

struct peer {
        struct chan ch;
        pid_t pid;
        char *msgs[256];           /* everything received, in order */
        size_t n;
        bool closed;
};

static void on_msg(char *msg, size_t len, void *userdata)
{
        struct peer *p = userdata;
        (void)len;
        if (p->n < 256)
                p->msgs[p->n++] = strdup(msg);
}

static void on_close(void *userdata)
{
        ((struct peer *)userdata)->closed = true;
}

/* index of the first message at or after *from that starts with prefix and contains needle;
 * waits for it up to 10 s */
static size_t wait_msg(struct peer *p, size_t *from, const char *prefix, const char *needle)
{
        for (int i = 0; i < 1000; i++) {
                for (size_t k = *from; k < p->n; k++)
                        if (!strncmp(p->msgs[k], prefix, strlen(prefix)) &&
                            (!needle || strstr(p->msgs[k], needle))) {
                                *from = k + 1;
                                return k;
                        }
                sd_event_run(ev, 10000);
        }
        for (size_t k = 0; k < p->n; k++)
                print_message("  got: %s\n", p->msgs[k]);
        fail_msg("no message '%s'%s%s from the helper", prefix, needle ? " with " : "",
                 needle ? needle : "");
        return 0;
}

static void spawn_helper(struct peer *p, const char *uri)
{
        int sv[2];
        char fd[16];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        memset(p, 0, sizeof(*p));
        p->pid = fork();
        assert_true(p->pid >= 0);
        if (p->pid == 0) {
                close(sv[0]);
                snprintf(fd, sizeof(fd), "%d", sv[1]);
                char *argv[] = {(char *)"--virt-helper", (char *)"--fd", fd, (char *)"--uri",
                                (char *)uri, (char *)"--accel", (char *)"tcg",
                                (char *)"--run-dir", tmpdir, NULL};
                _exit(virt_helper_main(9, argv));
        }
        close(sv[1]);
        assert_int_equal(chan_open(&p->ch, ev, sv[0], on_msg, on_close, p), 0);
}

static void stop_helper(struct peer *p)
{
        int st = -1;
        chan_close(&p->ch); /* the helper sees its daemon go and exits */
        for (int i = 0; i < 500 && waitpid(p->pid, &st, WNOHANG) == 0; i++)
                usleep(10000);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        for (size_t k = 0; k < p->n; k++)
                free(p->msgs[k]);
}

static char *render(const char *name, uint64_t mem_mib, char hash[17])
{
        struct nr_vm vm = {.vcpus = 1, .memory = mem_mib << 20, .cpu_mode = NR_CPU_HOST_MODEL};
        struct nr_domain d;
        snprintf(vm.name, sizeof(vm.name), "%s", name);
        vm.kernel = (char *)"/nonexistent/vmlinuz";
        cfg_vm_default_mac(name, vm.mac);
        struct nr_domain_in in = {.vm = &vm, .accel = NR_ACCEL_TCG, .bridge = "nr0",
                                  .console_path = "/nonexistent/console.log"};
        assert_int_equal(render_domain(&in, &d), 0);
        if (hash)
                memcpy(hash, d.hash, 17);
        return d.xml;
}

/* the engine's define op for one guest (name, memory); its definition's hash in hash */
static void send_define(struct peer *p, long id, const char *name, uint64_t mem, char *hash)
{
        char *xml = render(name, mem, hash);
        assert_int_equal(chan_sendf(&p->ch, "cmd %ld define %s\n%s", id, name, xml), 0);
        free(xml);
}

/* sends an op and returns its reply ("reply ID RC\nTEXT"), which follows a snapshot */
static const char *op(struct peer *p, size_t *at, long id, const char *fmt, ...)
{
        char cmd[200], key[32];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (*cmd)
                assert_int_equal(chan_sendf(&p->ch, "cmd %ld %s", id, cmd), 0);
        snprintf(key, sizeof(key), "reply %ld ", id);
        size_t k = wait_msg(p, at, key, NULL);
        assert_true(k > 0);
        assert_non_null(strstr(p->msgs[k - 1], "snap\n")); /* the snapshot came first */
        return p->msgs[k];
}

/* the snapshot line of a domain: "NAME\tSTATE\tREASON\tOURS\tLIVE\tCONF\tPERSISTENT\tACTIVE\tSTARTED" */
static const char *snap_line(const char *snap, const char *name, char *out, size_t size)
{
        char key[80];
        snprintf(key, sizeof(key), "\n%s\t", name);
        const char *p = strstr(snap, key);
        if (!p)
                return NULL;
        p++;
        size_t len = strcspn(p, "\n");
        snprintf(out, size, "%.*s", (int)len, p);
        return out;
}

/* waits for a snapshot in which every guest listed has the wanted line prefix */
static void wait_snap(struct peer *p, size_t *from, const char *name, const char *prefix)
{
        char line[600];
        for (int tries = 0; tries < 20; tries++) {
                size_t k = wait_msg(p, from, "snap", NULL);
                if (snap_line(p->msgs[k], name, line, sizeof(line)) &&
                    !strncmp(line, prefix, strlen(prefix)))
                        return;
        }
        fail_msg("no snapshot with '%s' for %s", prefix, name);
}

static void test_helper(void **state)
{
        static struct peer p; /* static: a failed test must not leave the loop a dead frame */
        char uri[PATH_MAX + 16], path[PATH_MAX], h[3][17], h2[3][17], line[600];
        size_t at = 0, k;
        (void)state;
        assert_non_null(realpath("tests/unit/virt-node.xml", path));
        snprintf(uri, sizeof(uri), "test://%s", path);
        spawn_helper(&p, uri);
        wait_msg(&p, &at, "accel tcg", NULL);
        wait_msg(&p, &at, "conn up", "libvirt ");

        /* define: new domains, ours, shut off */
        send_define(&p, 1, "g1", 128, h[0]);
        assert_string_equal(op(&p, &at, 1, ""), "reply 1 0\ng1: defined\n");
        send_define(&p, 2, "g3", 128, h[2]);
        assert_string_equal(op(&p, &at, 2, ""), "reply 2 0\ng3: defined\n");
        k = at - 2; /* the snapshot before reply 2 */
        assert_non_null(snap_line(p.msgs[k], "g3", line, sizeof(line)));
        assert_non_null(strstr(line, "g3\tshut off\t"));
        assert_non_null(strstr(line, h[2]));
        assert_non_null(strstr(line, "\t1\t0\t0")); /* persistent, not active, not started */
        /* never over a foreign domain: left alone, reported as not ours */
        send_define(&p, 3, "web1", 128, h[1]);
        assert_string_equal(op(&p, &at, 3, ""),
                            "reply 3 1\na domain named web1 exists that nestrouter does not own; "
                            "left alone\n");
        assert_non_null(snap_line(p.msgs[at - 2], "web1", line, sizeof(line)));
        assert_non_null(strstr(line, "web1\trunning\t"));
        assert_non_null(strstr(line, "\t0\t")); /* not ours */
        /* autostart: started and marked for this boot; a second one starts nothing */
        assert_string_equal(op(&p, &at, 4, "autostart g1"), "reply 4 0\ng1: started\n");
        assert_non_null(snap_line(p.msgs[at - 2], "g1", line, sizeof(line)));
        assert_non_null(strstr(line, "g1\trunning\tbooted\t1\t"));
        assert_non_null(strstr(line, h[0])); /* it runs the definition it was given */
        assert_non_null(strstr(line, "\t1\t1\t1")); /* persistent, active, started */
        /* undefine: ours and running: it keeps running, transient */
        assert_string_equal(op(&p, &at, 5, "undefine orphan1"), "reply 5 0\norphan1: undefined\n");
        assert_non_null(snap_line(p.msgs[at - 2], "orphan1", line, sizeof(line)));
        assert_non_null(strstr(line, "orphan1\trunning\t"));
        assert_non_null(strstr(line, "\t0\t1\t1")); /* not persistent, active, started */
        assert_string_equal(op(&p, &at, 6, "undefine web1"),
                            "reply 6 1\nweb1: not a nestrouter guest; left alone\n");

        /* stop: clean (the test driver shuts down at once) */
        assert_int_equal(chan_sendf(&p.ch, "cmd 7 stop g1 5 acpi"), 0);
        k = wait_msg(&p, &at, "reply 7 ", NULL);
        assert_non_null(strstr(p.msgs[k], "reply 7 0\ng1: clean, powered off"));
        wait_snap(&p, &at, "g1", "g1\tshut off\tshutdown\t1\t");
        /* autostart is once per boot: it does not bring it back */
        assert_string_equal(op(&p, &at, 11, "autostart g1"),
                            "reply 11 0\ng1: already started this boot\n");
        assert_non_null(snap_line(p.msgs[at - 2], "g1", line, sizeof(line)));
        assert_non_null(strstr(line, "g1\tshut off\tshutdown\t1\t"));

        assert_int_equal(chan_sendf(&p.ch, "cmd 8 start g1"), 0);
        k = wait_msg(&p, &at, "reply 8 ", NULL);
        assert_string_equal(p.msgs[k], "reply 8 0\ng1: started\n");
        assert_int_equal(chan_sendf(&p.ch, "cmd 9 start web1"), 0);
        k = wait_msg(&p, &at, "reply 9 ", NULL);
        assert_string_equal(p.msgs[k], "reply 9 1\nweb1: not a nestrouter guest; left alone\n");
        assert_int_equal(chan_sendf(&p.ch, "cmd 10 stop nosuch 5 acpi"), 0);
        k = wait_msg(&p, &at, "reply 10 ", NULL);
        assert_non_null(strstr(p.msgs[k], "reply 10 0\nnosuch: not running"));

        /* more memory for g1 while it runs: stored for its next start, the live one stays */
        send_define(&p, 12, "g1", 256, h2[0]);
        assert_string_equal(op(&p, &at, 12, ""), "reply 12 0\ng1: definition updated\n");
        assert_string_not_equal(h[0], h2[0]);
        char want[120];
        snprintf(want, sizeof(want), "g1\trunning\tbooted\t1\t%s\t%s\t", h[0], h2[0]);
        wait_snap(&p, &at, "g1", want);
        stop_helper(&p);
}

static void test_helper_no_libvirt(void **state)
{
        static struct peer p;
        size_t at = 0;
        (void)state;
        spawn_helper(&p, "test:///nonexistent/node.xml");
        wait_msg(&p, &at, "accel tcg", NULL);
        wait_msg(&p, &at, "conn down", NULL);
        assert_int_equal(chan_sendf(&p.ch, "cmd 1 start g1"), 0);
        size_t k = wait_msg(&p, &at, "reply 1 ", NULL);
        assert_non_null(strstr(p.msgs[k], "reply 1 1\nnot connected to libvirt"));
        stop_helper(&p);
}

/* ---- KVM probe ---------------------------------------------------------------------------- */

static void test_kvm_probe(void **state)
{
        char why[512], cache[PATH_MAX + 16];
        struct timespec a, b;
        (void)state;
        assert_false(kvm_probe("/nonexistent/kvm", 500, why, sizeof(why)));
        assert_non_null(strstr(why, "No such file"));
        /* the real device: whatever the answer, it comes within the timeout (+ reaping) */
        clock_gettime(CLOCK_MONOTONIC, &a);
        bool works = kvm_probe("/dev/kvm", 1000, why, sizeof(why));
        clock_gettime(CLOCK_MONOTONIC, &b);
        assert_true(b.tv_sec - a.tv_sec <= 2);
        assert_true(strlen(why) > 10);
        print_message("  /dev/kvm: %s: %s\n", works ? "KVM" : "TCG", why);
        /* cached: the second answer is the first one's, without probing */
        snprintf(cache, sizeof(cache), "%s/kvm-probe", tmpdir);
        assert_false(kvm_probe_cached(cache, "/nonexistent/kvm", 500, why, sizeof(why)));
        assert_false(kvm_probe_cached(cache, "/dev/kvm", 500, why, sizeof(why)));
        assert_non_null(strstr(why, "/nonexistent/kvm"));
}

/* ---- imports ------------------------------------------------------------------------------ */

struct imp_run {
        bool done;
        int r;
};

static void imp_cb(struct imp *j, int r, void *userdata)
{
        struct imp_run *x = userdata;
        (void)j;
        x->done = true;
        x->r = r;
}

static void test_progress(void **state)
{
        double v = -1;
        (void)state;
        assert_int_equal(imp_parse_progress("    (12.34/100%)", &v), 0);
        assert_true(v > 12.33 && v < 12.35);
        assert_int_equal(imp_parse_progress("(100.00/100%)", &v), 0);
        assert_true(v == 100);
        assert_int_equal(imp_parse_progress("qemu-img: Could not open", &v), -EINVAL);
        assert_int_equal(imp_parse_progress("(x/100%)", &v), -EINVAL);
        assert_string_equal(imp_qemu_format(NR_DISK_VHD), "vpc");
        assert_string_equal(imp_qemu_format(NR_DISK_VHDX), "vhdx");
}

static void test_import(void **state)
{
        char src[PATH_MAX + 16], dst[PATH_MAX + 16], rec[PATH_MAX + 16], magic[4] = "";
        struct imp j;
        struct imp_run x = {0};
        (void)state;
        snprintf(src, sizeof(src), "%s/disk.raw", tmpdir);
        snprintf(dst, sizeof(dst), "%s/out.qcow2", tmpdir);
        FILE *f = fopen(src, "w");
        assert_non_null(f);
        for (int i = 0; i < 4096; i++)
                fprintf(f, "%0255d\n", i); /* 1 MiB of compressible data */
        fclose(f);
        assert_int_equal(imp_start(&j, ev, "t1", "raw", src, dst, imp_cb, &x), 0);
        for (int i = 0; i < 1000 && !x.done; i++)
                sd_event_run(ev, 10000);
        assert_true(x.done);
        assert_int_equal(x.r, 0);
        assert_true(j.percent == 100);
        imp_cancel(&j);
        f = fopen(dst, "r");
        assert_non_null(f);
        assert_int_equal(fread(magic, 1, 4, f), 4);
        fclose(f);
        assert_memory_equal(magic, "QFI\xfb", 4);
        imp_recorded_source(dst, rec, sizeof(rec));
        assert_string_equal(rec, src);
        strcat(dst, ".part");
        assert_int_equal(access(dst, F_OK), -1);

        /* a source that is not there: failed, with qemu-img's words, and nothing left */
        struct imp_run y = {0};
        snprintf(src, sizeof(src), "%s/missing.vhdx", tmpdir);
        snprintf(dst, sizeof(dst), "%s/bad.qcow2", tmpdir);
        assert_int_equal(imp_start(&j, ev, "t2", "vhdx", src, dst, imp_cb, &y), 0);
        for (int i = 0; i < 1000 && !y.done; i++)
                sd_event_run(ev, 10000);
        assert_true(y.done);
        assert_true(y.r < 0);
        assert_non_null(strstr(j.last, "missing.vhdx"));
        imp_cancel(&j);
        assert_int_equal(access(dst, F_OK), -1);
        strcat(dst, ".part");
        assert_int_equal(access(dst, F_OK), -1);
}

/* ---- the channel -------------------------------------------------------------------------- */

static void test_chan(void **state)
{
        int sv[2];
        static struct peer a, b;
        (void)state;
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(chan_open(&a.ch, ev, sv[0], on_msg, on_close, &a), 0);
        assert_int_equal(chan_open(&b.ch, ev, sv[1], on_msg, on_close, &b), 0);
        for (int i = 0; i < 200; i++)
                assert_int_equal(chan_sendf(&a.ch, "msg %d\nbody", i), 0);
        for (int i = 0; i < 200 && b.n < 200; i++)
                sd_event_run(ev, 10000);
        assert_int_equal(b.n, 200);
        assert_string_equal(b.msgs[0], "msg 0\nbody");
        assert_string_equal(b.msgs[199], "msg 199\nbody");
        chan_close(&a.ch);
        for (int i = 0; i < 100 && !b.closed; i++)
                sd_event_run(ev, 10000);
        assert_true(b.closed);
        assert_false(chan_is_open(&b.ch));
        assert_int_equal(chan_sendf(&b.ch, "late"), -ENOTCONN);
        for (size_t k = 0; k < b.n; k++)
                free(b.msgs[k]);
}

static int setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/nr-test-virt.XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[PATH_MAX + 16];
        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_helper),   cmocka_unit_test(test_helper_no_libvirt),
                cmocka_unit_test(test_kvm_probe), cmocka_unit_test(test_progress),
                cmocka_unit_test(test_import),   cmocka_unit_test(test_chan),
        };
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD); /* sd-event child sources (imports) need it blocked */
        sigprocmask(SIG_BLOCK, &ss, NULL);
        assert_int_equal(sd_event_new(&ev), 0);
        int r = cmocka_run_group_tests(tests, setup, teardown);
        sd_event_unref(ev);
        return r;
}
