/* `nestrouterctl azure routes|routeserver [--format az|arm|bicep] [--remove] CONFIG...`: reads
 * and checks each host's configuration as nestrouterd --check does (same diagnostics on
 * stderr), merges them into one route table (render_azure.c) or one Route Server with a
 * peering per host (render_azure_rs.c) and prints the artefacts. */
#include "ctl/azure.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/azure/azure_rs.h"
#include "core/azure/render_azure.h"
#include "core/config/validate.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: nestrouterctl azure routes [--format az|arm|bicep] [--remove] "
                   "CONFIG...\n"
                   "  one configuration per host; prints the route table (one route per host: "
                   "guest subnet\n"
                   "  -> NIC2, next hop VirtualAppliance), the subnets it belongs on and NIC2's "
                   "IP forwarding\n"
                   "  --format F   az (bash script, default), arm (template JSON) or bicep\n"
                   "  --remove     the az steps that decommission the one host CONFIG\n"
                   "usage: nestrouterctl azure routeserver [--format az|arm|bicep] [--remove] "
                   "CONFIG...\n"
                   "  one configuration per host, each with bgp:; prints Route Server, its "
                   "subnet and public IP,\n"
                   "  one BGP peering per host, branch-to-branch and NIC2's IP forwarding\n"
                   "  --remove     the az steps that retire these hosts' route-table routes "
                   "(the migration)\n");
}

static int parse_format(const char *s, enum nr_azure_format *f)
{
        if (!strcmp(s, "az"))
                *f = NR_AZURE_FORMAT_AZ;
        else if (!strcmp(s, "arm"))
                *f = NR_AZURE_FORMAT_ARM;
        else if (!strcmp(s, "bicep"))
                *f = NR_AZURE_FORMAT_BICEP;
        else
                return -1;
        return 0;
}

/* Loads every file (all of them, so every mistake is reported in one run); 0 when all are
 * valid. */
static int load_all(char **files, size_t n, struct nr_config *cfgs)
{
        int rc = 0;
        for (size_t i = 0; i < n; i++) {
                struct nr_diags d = {0};
                if (cfg_load_checked(files[i], &cfgs[i], &d) < 0)
                        rc = -1;
                diag_print(&d, files[i], stderr);
                diag_free(&d);
        }
        return rc;
}

static int print_owned(char *text)
{
        if (!text) {
                fprintf(stderr, "nestrouterctl: out of memory\n");
                return 1;
        }
        fputs(text, stdout);
        free(text);
        return 0;
}

/* One command's work on the loaded hosts: build its plan (diagnostics into diags[i]) and
 * render it into *text. 0, -EINVAL (reported in diags) or -ENOMEM. */
typedef int (*hosts_fn)(const struct nr_azure_host *hosts, size_t n, struct nr_diags *diags,
                        enum nr_azure_format fmt, bool remove, char **text);

static int routes_text(const struct nr_azure_host *hosts, size_t n, struct nr_diags *diags,
                       enum nr_azure_format fmt, bool remove, char **text)
{
        struct nr_azure_plan plan = {0};
        int r = azure_plan_build(hosts, n, &plan, diags);
        if (r == 0)
                *text = remove ? render_azure_remove(&plan) : render_azure_routes(&plan, fmt);
        azure_plan_free(&plan);
        return r;
}

static int routeserver_text(const struct nr_azure_host *hosts, size_t n, struct nr_diags *diags,
                            enum nr_azure_format fmt, bool remove, char **text)
{
        struct nr_azure_rs_plan plan = {0};
        int r = azure_rs_build(hosts, n, &plan, diags);
        if (r == 0)
                *text = remove ? render_azure_rs_remove(&plan) : render_azure_rs(&plan, fmt);
        azure_rs_free(&plan);
        return r;
}

/* Loads every file, runs fn over them, prints its diagnostics and its text. */
static int run_hosts(char **files, size_t n, enum nr_azure_format fmt, bool remove, hosts_fn fn)
{
        struct nr_config *cfgs = calloc(n, sizeof(*cfgs));
        struct nr_azure_host *hosts = calloc(n, sizeof(*hosts));
        struct nr_diags *diags = calloc(n, sizeof(*diags));
        char *text = NULL;
        int rc = 1;
        if (!cfgs || !hosts || !diags) {
                fprintf(stderr, "nestrouterctl: out of memory\n");
                goto out;
        }
        if (load_all(files, n, cfgs) < 0)
                goto out;
        for (size_t i = 0; i < n; i++)
                hosts[i] = (struct nr_azure_host){&cfgs[i], files[i]};
        int r = fn(hosts, n, diags, fmt, remove, &text);
        for (size_t i = 0; i < n; i++)
                diag_print(&diags[i], files[i], stderr);
        if (r == 0)
                rc = print_owned(text);
        else if (r != -EINVAL)
                fprintf(stderr, "nestrouterctl: out of memory\n");
out:
        for (size_t i = 0; cfgs && diags && i < n; i++) {
                cfg_free(&cfgs[i]);
                diag_free(&diags[i]);
        }
        free(cfgs);
        free(hosts);
        free(diags);
        return rc;
}

struct args {
        enum nr_azure_format fmt;
        bool remove;
        char **files;
        size_t n;
};

/* argv[0] is "routes". Returns -1 to go on, else the exit status. */
static int parse_routes_args(int argc, char **argv, struct args *a)
{
        static const struct option lo[] = {
                {"format", required_argument, NULL, 'f'},
                {"remove", no_argument, NULL, 'r'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        optind = 0; /* GNU getopt: start afresh on this argument vector */
        int c;
        while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
                if (c == 'f' && parse_format(optarg, &a->fmt) < 0) {
                        fprintf(stderr, "nestrouterctl: --format %s: use az, arm or bicep\n",
                                optarg);
                        return 2;
                } else if (c == 'r') {
                        a->remove = true;
                } else if (c == 'h') {
                        usage(stdout);
                        return 0;
                } else if (c != 'f') {
                        usage(stderr);
                        return 2;
                }
        }
        a->files = argv + optind;
        a->n = (size_t)(argc - optind);
        return -1;
}

int ctl_azure(int argc, char **argv)
{
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                usage(stdout);
                return 0;
        }
        bool rs = argc >= 2 && !strcmp(argv[1], "routeserver");
        if (argc < 2 || (strcmp(argv[1], "routes") && !rs)) {
                if (argc >= 2)
                        fprintf(stderr, "nestrouterctl: azure %s: unknown command\n", argv[1]);
                usage(stderr);
                return 2;
        }
        struct args a = {.fmt = NR_AZURE_FORMAT_AZ};
        int rc = parse_routes_args(argc - 1, argv + 1, &a);
        if (rc >= 0)
                return rc;
        if (!a.n) {
                fprintf(stderr, "nestrouterctl: azure %s: give at least one CONFIG\n", argv[1]);
                usage(stderr);
                return 2;
        }
        if (rs && a.remove && a.fmt != NR_AZURE_FORMAT_AZ) {
                fprintf(stderr, "nestrouterctl: azure routeserver --remove: only --format az "
                                "(a deployment never deletes)\n");
                return 2;
        }
        if (rs)
                return run_hosts(a.files, a.n, a.fmt, a.remove, routeserver_text);
        if (a.remove && a.n != 1) {
                fprintf(stderr, "nestrouterctl: azure routes --remove: give the one host to "
                                "decommission\n");
                return 2;
        }
        if (a.remove && a.fmt != NR_AZURE_FORMAT_AZ) {
                fprintf(stderr, "nestrouterctl: azure routes --remove: only --format az; an "
                                "ARM or Bicep deployment never deletes. Redeploy the template "
                                "generated from the remaining hosts' configurations instead, "
                                "or run the az steps.\n");
                return 2;
        }
        return run_hosts(a.files, a.n, a.fmt, a.remove, routes_text);
}
