/* nestrouterctl guests shutdown [--timeout S]: the host-shutdown hook (ExecStop= of
 * nestrouter-guests.service, which stops before libvirtd and nestrouterd). It talks to libvirt
 * itself, not through the daemon, so guests are shut down cleanly even when nestrouterd has died
 * or hangs: the URI comes from the configuration file (only libvirt: needs to parse). Every
 * running nestrouter guest gets an ACPI shutdown request; one overall timeout; stragglers are
 * destroyed; one line per guest, clean or forced; exit status 0 only if all were clean. Domains
 * without nestrouter's metadata are never touched. Runs as `nestrouter-virt --ctl-guests` (see
 * guests_shutdown.h). */
#include "helper/guests_shutdown.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "backend/virt/shutdown.h"
#include "backend/virt/virt_dom.h"
#include "backend/virt/virt_event.h"
#include "core/config/config.h"
#include "core/lib/strbuf.h"

/* Tell a running daemon not to start guests any more; quietly skipped when it is not there. */
static void hold_daemon(const char *run_dir)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = 2};
        char buf[256];
        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", run_dir) >=
            sizeof(sa.sun_path))
                return;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            write(fd, "guests hold\n", 12) == 12) {
                shutdown(fd, SHUT_WR);
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
        }
        close(fd);
}

/* libvirt.uri and .shutdown_timeout from the file; the defaults when it cannot be read. A file
 * with errors elsewhere still names its URI: at host shutdown a typo must not cost the guests. */
static void settings(const char *file, char *uri, size_t size, unsigned *timeout)
{
        struct nr_config cfg;
        struct nr_diags d = {0};
        int r = cfg_load(file, &cfg, &d);
        if (r == -EBADMSG || !cfg.libvirt.uri[0]) {
                fprintf(stderr, "nestrouterctl: %s: cannot read libvirt.uri; using qemu:///system\n",
                        file);
                snprintf(uri, size, "qemu:///system");
        } else {
                snprintf(uri, size, "%s", cfg.libvirt.uri);
                if (cfg.libvirt.shutdown_timeout)
                        *timeout = cfg.libvirt.shutdown_timeout;
        }
        cfg_free(&cfg);
        diag_free(&d);
}

static void on_done(struct virt_shutdown *s, void *userdata)
{
        (void)userdata;
        sd_event_exit(s->ev, 0);
}

/* the running guests that are nestrouter's */
static size_t running_guests(virConnectPtr c, char ***names)
{
        struct virt_doms doms;
        char err[256];
        size_t n = 0;
        *names = NULL;
        if (virt_list(c, &doms, err, sizeof(err)) < 0) {
                fprintf(stderr, "nestrouterctl: listing domains: %s\n", err);
                return 0;
        }
        *names = calloc(doms.n + 1, sizeof(**names));
        for (size_t i = 0; *names && i < doms.n; i++)
                if (doms.v[i].owned && doms.v[i].active)
                        (*names)[n++] = strdup(doms.v[i].name);
        virt_doms_free(&doms);
        return n;
}

static int shutdown_all(const char *uri, unsigned timeout)
{
        sd_event *ev = NULL;
        struct virt_shutdown s = {0};
        char **names;
        int rc = 1;
        if (sd_event_new(&ev) < 0)
                return 1;
        virt_event_register(ev);
        virt_quiet_errors();
        virConnectPtr c = virConnectOpen(uri);
        if (!c) {
                char err[256];
                virt_error(err, sizeof(err));
                fprintf(stderr, "nestrouterctl: cannot connect to %s: %s\n", uri, err);
                sd_event_unref(ev);
                return 1;
        }
        size_t n = running_guests(c, &names);
        if (!n) {
                printf("no nestrouter guest is running\n");
                rc = names ? 0 : 1;
        } else {
                printf("shutting down %zu guest%s (ACPI, timeout %u s):", n, n == 1 ? "" : "s",
                       timeout);
                for (size_t i = 0; i < n; i++)
                        printf(" %s", names[i]);
                printf("\n");
                fflush(stdout);
                if (virt_shutdown_start(&s, c, ev, names, n, timeout, false, on_done, NULL) == 0)
                        sd_event_loop(ev);
                struct nr_buf b = {0};
                virt_shutdown_report(&s, &b);
                char *txt = buf_finish(&b);
                fputs(txt ? txt : "", stdout);
                free(txt);
                size_t clean = virt_shutdown_count(&s, VIRT_SD_CLEAN) +
                               virt_shutdown_count(&s, VIRT_SD_NOT_RUNNING);
                printf("%zu guest%s: %zu clean, %zu forced%s\n", n, n == 1 ? "" : "s",
                       virt_shutdown_count(&s, VIRT_SD_CLEAN),
                       virt_shutdown_count(&s, VIRT_SD_FORCED),
                       clean == n ? "" : " (see above)");
                rc = clean == n ? 0 : 1;
                virt_shutdown_free(&s);
        }
        for (size_t i = 0; names && names[i]; i++)
                free(names[i]);
        free(names);
        virConnectClose(c);
        sd_event_unref(ev);
        return rc;
}

int ctl_guests(int argc, char **argv, const char *config, const char *run_dir)
{
        static const struct option lo[] = {
                {"timeout", required_argument, NULL, 't'},
                {0},
        };
        unsigned timeout = 120, t = 0;
        char uri[256];
        bool have_t = false;
        int c;
        optind = 1;
        if (argc < 2 || strcmp(argv[1], "shutdown")) {
                fprintf(stderr, "usage: nestrouterctl guests shutdown [--timeout SECONDS]\n");
                return 2;
        }
        while ((c = getopt_long(argc - 1, argv + 1, "", lo, NULL)) != -1) {
                char *end;
                if (c != 't' || (t = (unsigned)strtoul(optarg, &end, 10), *end) || !t) {
                        fprintf(stderr, "usage: nestrouterctl guests shutdown [--timeout SECONDS]\n");
                        return 2;
                }
                have_t = true;
        }
        settings(config, uri, sizeof(uri), &timeout);
        if (have_t)
                timeout = t;
        hold_daemon(run_dir);
        return shutdown_all(uri, timeout);
}
