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

#include "azure.h"

#define DEFAULT_RUN_DIR "/run/nestrouter"

static void usage(FILE *f)
{
        fprintf(f, "usage: nestrouterctl [--run-dir DIR] COMMAND\n"
                   "  status [--json]   desired vs observed per object, failures, counters\n"
                   "  leases [--json]   the guests' DHCP leases\n"
                   "  reload            re-read the configuration (exit 1 if it is rejected)\n"
                   "  plan              what the daemon would change now\n"
                   "  azure routes [--format az|arm|bicep] [--remove] CONFIG...\n"
                   "                    the Azure route table, subnet associations and NIC2 IP\n"
                   "                    forwarding for these hosts (runs here, no daemon)\n");
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

static int request(const char *run_dir, const char *line)
{
        int fd = connect_ctl(run_dir);
        if (fd < 0)
                return 2;
        size_t len = strlen(line);
        if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
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
                fwrite(buf, 1, n, stdout);
        fclose(in);
        return rc;
}

int main(int argc, char **argv)
{
        static const struct option lo[] = {
                {"run-dir", required_argument, NULL, 'r'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *run_dir = DEFAULT_RUN_DIR;
        int c;
        while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
                if (c == 'r') {
                        run_dir = optarg;
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
