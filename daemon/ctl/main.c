/* nestrouterctl: talks to a running nestrouterd over the control socket in its run dir.
 * Protocol: one request line ("status json"), then the daemon answers with a line
 * "exit N" followed by the body, and closes. N becomes this program's exit status.
 * `azure ...` runs here without a daemon (azure.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/azure.h"
#include "ctl/doctor.h"
#include "helper/path.h"

#define DEFAULT_RUN_DIR "/run/nestrouter"
#define DEFAULT_CONFIG "/etc/nestrouter/nestrouter.yaml"

static void usage(FILE *f)
{
        fprintf(f, "usage: nestrouterctl [--run-dir DIR] [--config FILE] COMMAND\n"
                   "  status [--json]   desired vs observed per object, failures, counters\n"
                   "  leases [--json]   the guests' DHCP leases\n"
                   "  reload [--confirm SECONDS]\n"
                   "                    re-read the configuration (exit 1 if it is rejected);\n"
                   "                    --confirm: roll back to the previous one by itself\n"
                   "                    unless `confirm` follows within SECONDS\n"
                   "  confirm           keep the configuration a `reload --confirm` applied\n"
                   "  plan              what the daemon would change now\n"
                   "  metrics           the counters in Prometheus' text format (what the\n"
                   "                    daemon writes to metrics.textfile for node exporter)\n"
                   "  drain             withdraw this host's BGP advertisement (bgp:) on purpose;\n"
                   "                    kept across restarts until undrain\n"
                   "  drain --until-reboot\n"
                   "                    the same, forgotten at the next boot (host shutdown)\n"
                   "  undrain           advertise again (while the host is healthy)\n"
                   "  vm list [--json]  the nested guests: state, firmware, CPU, pending change\n"
                   "  vm start NAME     start a guest\n"
                   "  vm stop NAME [--force]\n"
                   "                    ACPI shutdown, destroyed after libvirt.shutdown_timeout\n"
                   "                    (--force: at once); exit 1 if it had to be destroyed\n"
                   "  vm reset NAME     discard a linked clone's overlay (base:): a fresh copy\n"
                   "                    of its base; stopped first, started again if autostart\n"
                   "  vm console NAME [--follow]\n"
                   "                    the guest's serial console log (last 40 lines)\n"
                   "  vm checkpoint NAME LABEL\n"
                   "                    save a stopped guest's disk (and UEFI variables)\n"
                   "  vm checkpoints NAME\n"
                   "                    list its checkpoints\n"
                   "  vm revert NAME LABEL\n"
                   "                    back to a checkpoint (the guest stopped)\n"
                   "  vm checkpoint-delete NAME LABEL\n"
                   "                    delete a checkpoint\n"
                   "  guests shutdown [--timeout S]\n"
                   "                    shut every running guest down cleanly, straight through\n"
                   "                    libvirt (libvirt.uri from --config, default\n"
                   "                    " DEFAULT_CONFIG "); exit 0 only if all were clean\n"
                   "  doctor [--probe ADDR[:PORT]]\n"
                   "                    check this VM's Azure setup (uplinks, IMDS, wireserver,\n"
                   "                    guest subnet, UDR and forwarding, nested KVM)\n"
                   "  azure routes [--format az|arm|bicep] [--remove] CONFIG...\n"
                   "                    the Azure route table, subnet associations and NIC2 IP\n"
                   "                    forwarding for these hosts (runs here, no daemon)\n"
                   "  azure routeserver [--format az|arm|bicep] [--remove] CONFIG...\n"
                   "                    Azure Route Server, its subnet and one BGP peering per\n"
                   "                    host (bgp:), instead of the route table (runs here)\n");
}

static int connect_ctl(const char *run_dir)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", run_dir) >=
            sizeof(sa.sun_path)) {
                fprintf(stderr, "nestrouterctl: run dir path too long: %s\n", run_dir);
                return -ENAMETOOLONG;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                fprintf(stderr, "nestrouterctl: %s: %s (is nestrouterd running?)\n", sa.sun_path,
                        strerror(e));
                close(fd);
                return -e;
        }
        return fd;
}

/* Sends one request line; the body of the answer goes to out. Returns the daemon's exit code. */
int request_to(const char *run_dir, const char *line, FILE *out)
{
        int fd = connect_ctl(run_dir);
        if (fd < 0)
                return 2;
        /* the line and its newline in one write: the daemon wakes once and has the whole line */
        char req[600];
        int len = snprintf(req, sizeof(req), "%s\n", line);
        if (len < 0 || (size_t)len >= sizeof(req) || write(fd, req, (size_t)len) != len) {
                fprintf(stderr, "nestrouterctl: send: %s\n", strerror(errno));
                close(fd);
                return 2;
        }
        shutdown(fd, SHUT_WR);
        FILE *in = fdopen(fd, "r");
        if (!in) {
                close(fd);
                return 2;
        }
        int rc = 2;
        char buf[4096];
        if (!fgets(buf, sizeof(buf), in) || sscanf(buf, "exit %d", &rc) != 1) {
                fprintf(stderr, "nestrouterctl: the daemon gave no answer\n");
                fclose(in);
                return 2;
        }
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                fwrite(buf, 1, n, out);
        fclose(in);
        return rc;
}

static int request(const char *run_dir, const char *line)
{
        return request_to(run_dir, line, stdout);
}

/* vm console NAME --follow: the daemon names the log file, tail follows it */
static int follow_console(const char *run_dir, const char *name)
{
        char line[512], path[4096] = "";
        snprintf(line, sizeof(line), "vm console-path %s", name);
        FILE *mem = fmemopen(path, sizeof(path) - 1, "w");
        int rc = mem ? request_to(run_dir, line, mem) : 2;
        if (mem)
                fclose(mem);
        path[strcspn(path, "\n")] = '\0';
        if (rc != 0 || !path[0]) {
                fputs(path, stderr);
                return rc ? rc : 2;
        }
        fflush(stdout);
        execlp("tail", "tail", "-n", "40", "-F", path, (char *)NULL);
        fprintf(stderr, "nestrouterctl: tail: %s\n", strerror(errno));
        return 2;
}

/* `guests shutdown` talks to libvirt: nestrouter-virt does it, so that nestrouterctl itself
 * loads no libvirt (helper/path.h says where it is). */
static int exec_guests(int argc, char **argv, const char *config, const char *run_dir)
{
        char path[4200];
        const char **av = calloc((size_t)argc + 5, sizeof(*av));
        if (!av)
                return 1;
        av[0] = NR_HELPER_NAME;
        av[1] = "--ctl-guests";
        av[2] = config;
        av[3] = run_dir;
        for (int i = 0; i < argc; i++)
                av[4 + i] = argv[i];
        if (nr_helper_path(path, sizeof(path)) == 0)
                execv(path, (char **)av);
        fprintf(stderr, "nestrouterctl: guests: cannot run %s: %s\n", path, strerror(errno));
        free(av);
        return 1;
}

int main(int argc, char **argv)
{
        static const struct option lo[] = {
                {"run-dir", required_argument, NULL, 'r'},
                {"config", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *run_dir = DEFAULT_RUN_DIR, *config = DEFAULT_CONFIG;
        int c;
        while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
                if (c == 'r') {
                        run_dir = optarg;
                } else if (c == 'c') {
                        config = optarg;
                } else if (c == 'h') {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        if (!strcmp(argv[optind], "azure"))
                return ctl_azure(argc - optind, argv + optind);
        if (!strcmp(argv[optind], "doctor"))
                return ctl_doctor(argc - optind, argv + optind, config, run_dir);
        if (!strcmp(argv[optind], "guests"))
                return exec_guests(argc - optind, argv + optind, config, run_dir);
        if (argc - optind == 4 && !strcmp(argv[optind], "vm") &&
            !strcmp(argv[optind + 1], "console") &&
            (!strcmp(argv[optind + 3], "--follow") || !strcmp(argv[optind + 3], "-f")))
                return follow_console(run_dir, argv[optind + 2]);
        char line[512] = "";
        for (int i = optind; i < argc; i++) {
                const char *w = argv[i];
                while (*w == '-')
                        w++; /* "--json" travels as the word "json" */
                if (strlen(line) + strlen(w) + 2 > sizeof(line)) {
                        fprintf(stderr, "nestrouterctl: command too long\n");
                        return 2;
                }
                if (line[0])
                        strcat(line, " ");
                strcat(line, w);
        }
        return request(run_dir, line);
}
