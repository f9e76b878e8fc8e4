/* nestrouterd entry point: option parsing and the one-shot modes (--check, --plan). The daemon
 * proper lives in loop.c and friends. */
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model/model.h"
#include "daemon.h"
#include "core/model/plan.h"
#include "core/render/render_text.h"
#include "core/config/validate.h"
#include "lib/hugemem.h"
#include "lib/log.h"

#define DEFAULT_CONFIG "/etc/nestrouter/nestrouter.yaml"
#define DEFAULT_RUN_DIR "/run/nestrouter"
#define DEFAULT_STATE_DIR "/var/lib/nestrouter"

enum mode {
        MODE_DAEMON,
        MODE_CHECK,
        MODE_PLAN,
        MODE_TEARDOWN,
};

struct opts {
        enum mode mode;
        bool verbose, json, debug;
        const char *run_dir, *state_dir;
        const char **files;
        size_t n_files;
};

static void usage(FILE *f)
{
        fprintf(f,
                "usage: nestrouterd --check [-v | --json] FILE...\n"
                "       nestrouterd --plan FILE\n"
                "       nestrouterd [--debug] [--config FILE] [--run-dir DIR] [--state-dir DIR]\n"
                "       nestrouterd --teardown [--config FILE] [--run-dir DIR] [--state-dir DIR]\n"
                "  --check       validate FILE(s); -v prints the normalized config,\n"
                "                --json the desired state\n"
                "  --plan        print the operations an empty system would need\n"
                "  --teardown    remove everything nestrouter owns (leases stay)\n"
                "  --debug       log each pass and each operation (SIGUSR1 toggles it live)\n"
                "  --config F    the configuration (default " DEFAULT_CONFIG ")\n"
                "  --run-dir D   runtime files and control socket (default " DEFAULT_RUN_DIR ")\n"
                "  --state-dir D leases and state kept across restarts (default " DEFAULT_STATE_DIR
                ")\n");
}

static int load(const char *file, struct nr_config *cfg)
{
        struct nr_diags d = {0};
        int r = cfg_load_checked(file, cfg, &d);
        diag_print(&d, file, stderr);
        diag_free(&d);
        return r;
}

static int print_owned(char *text)
{
        if (!text) {
                fprintf(stderr, "out of memory\n");
                return 1;
        }
        fputs(text, stdout);
        free(text);
        return 0;
}

static int check_one(const struct opts *o, const char *file)
{
        struct nr_config cfg;
        int rc = 0;
        if (load(file, &cfg) < 0) {
                cfg_free(&cfg);
                return 1;
        }
        if (o->verbose) {
                rc = print_owned(render_config_yaml(&cfg));
        } else if (o->json) {
                struct nr_facts facts;
                struct nr_desired d;
                struct nr_paths paths = {o->run_dir, o->state_dir};
                model_facts_assumed(&cfg, &facts);
                if (model_build(&cfg, &facts, &paths, &d) < 0)
                        rc = 1;
                else
                        rc = print_owned(render_desired_json(&d));
                model_free(&d);
        } else {
                printf("%s: configuration OK\n", file);
        }
        cfg_free(&cfg);
        return rc;
}

static int cmd_plan(const struct opts *o)
{
        struct nr_config cfg;
        struct nr_facts facts;
        struct nr_desired d, g;
        struct nr_plan plan;
        struct nr_paths paths = {o->run_dir, o->state_dir};
        int rc = 1;
        if (load(o->files[0], &cfg) < 0)
                goto out_cfg;
        model_facts_assumed(&cfg, &facts);
        if (model_build(&cfg, &facts, &paths, &d) < 0)
                goto out_cfg;
        /* the guests, as an empty libvirt would need them: each defined, autostarted ones
         * started (their definitions are rendered only by the daemon, with its facts) */
        if (model_doms(&cfg, false, &g) < 0) {
                model_free(&d);
                goto out_cfg;
        }
        for (size_t i = 0; i < g.n_doms; i++)
                g.doms[i].ready = true;
        d.doms_on = true;
        d.doms = g.doms;
        d.n_doms = g.n_doms;
        if (plan_build(&d, NULL, NULL, &plan) == 0) {
                for (size_t i = 0; i < d.n_notes; i++)
                        printf("# %s\n", d.notes[i]);
                rc = print_owned(plan_render(&plan));
                plan_free(&plan);
        }
        model_free(&d);
out_cfg:
        cfg_free(&cfg);
        return rc;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
        static const struct option lo[] = {
                {"check", no_argument, NULL, 'c'},   {"plan", no_argument, NULL, 'p'},
                {"teardown", no_argument, NULL, 't'},
                {"debug", no_argument, NULL, 'd'},
                {"json", no_argument, NULL, 'j'},    {"verbose", no_argument, NULL, 'v'},
                {"config", required_argument, NULL, 'f'},
                {"run-dir", required_argument, NULL, 'r'},
                {"state-dir", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},    {0},
        };
        static const char *config_file;
        static const char *default_files[] = {DEFAULT_CONFIG};
        int c;
        while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
                switch (c) {
                case 'c': o->mode = MODE_CHECK; break;
                case 'p': o->mode = MODE_PLAN; break;
                case 't': o->mode = MODE_TEARDOWN; break;
                case 'd': o->debug = true; break;
                case 'j': o->json = true; break;
                case 'v': o->verbose = true; break;
                case 'f': config_file = optarg; break;
                case 'r': o->run_dir = optarg; break;
                case 's': o->state_dir = optarg; break;
                case 'h': usage(stdout); exit(0);
                default: return -1;
                }
        }
        o->files = (const char **)argv + optind;
        o->n_files = (size_t)(argc - optind);
        if (config_file && o->n_files)
                return -1;
        if (!o->n_files) {
                o->files = config_file ? &config_file : default_files;
                o->n_files = 1;
        }
        if (o->mode != MODE_CHECK && o->n_files != 1)
                return -1;
        if (o->verbose && o->json) {
                fprintf(stderr, "nestrouterd: -v and --json print different things; pick one\n");
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct opts o = {.run_dir = DEFAULT_RUN_DIR, .state_dir = DEFAULT_STATE_DIR};
        if (parse_opts(argc, argv, &o) < 0) {
                usage(stderr);
                return 2;
        }
        /* A fixed threshold (glibc's moves up to the largest block freed): a reload's transient
         * blocks of 128 KiB and more (the YAML tree, the nft text) come from mmap and go back
         * whole, instead of leaving holes among the long-lived heap that no trim returns. */
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        /* ... and the YAML tree, the largest of them, in huge pages (lib/hugemem.h) */
        yf_set_region_ops(&hugemem_yf_ops);
        switch (o.mode) {
        case MODE_CHECK: {
                int rc = 0;
                for (size_t i = 0; i < o.n_files; i++)
                        rc |= check_one(&o, o.files[i]);
                return rc;
        }
        case MODE_PLAN:
                return cmd_plan(&o);
        case MODE_TEARDOWN:
        case MODE_DAEMON:
                break;
        }
        log_open("nestrouterd");
        if (o.debug)
                log_set_level(LOG_PRI_DEBUG);
        struct nr_daemon_opts d = {o.files[0], o.run_dir, o.state_dir};
        return o.mode == MODE_TEARDOWN ? daemon_teardown(&d) : daemon_run(&d);
}
