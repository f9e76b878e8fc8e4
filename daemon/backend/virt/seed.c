/* cloud-init seeds (see seed.h). The ISO tool runs synchronously (a few KiB: milliseconds),
 * bounded by virt_run's timeout, and only when the data changed. */
#include "backend/virt/seed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/virt/blank.h"
#include "core/render/cloud_init.h"
#include "core/render/render_domain.h"
#include "lib/fileio.h"
#include "lib/log.h"

static uint64_t fnv64(uint64_t h, const char *s)
{
        for (; s && *s; s++)
                h = (h ^ (uint8_t)*s) * 1099511628211ull;
        return (h ^ 0xff) * 1099511628211ull;
}

/* inline text, or the file's */
static char *text_of(const char *inline_text, const char *file, char *note, size_t note_len)
{
        size_t len;
        if (inline_text)
                return strdup(inline_text);
        if (!file)
                return NULL;
        char *t = file_read(file, &len);
        if (!t)
                snprintf(note, note_len, "cloud_init: %s: %s", file, strerror(errno));
        return t;
}

static const char *iso_tool(void)
{
        static const char *const dirs[] = {"/usr/bin/", "/usr/local/bin/", "/bin/"};
        static const char *const tools[] = {"xorriso", "genisoimage"};
        char p[64];
        for (size_t t = 0; t < 2; t++)
                for (size_t d = 0; d < 3; d++) {
                        snprintf(p, sizeof(p), "%s%s", dirs[d], tools[t]);
                        if (access(p, X_OK) == 0)
                                return tools[t];
                }
        return NULL;
}

static int build(const char *dir, const char *iso, bool net, char *note, size_t note_len)
{
        char part[4300], ud[4300], md[4300], nc[4300];
        const char *tool = iso_tool();
        if (!tool) {
                snprintf(note, note_len, "cloud_init: no xorriso or genisoimage to build the "
                                         "seed (install xorriso)");
                return -ENOENT;
        }
        snprintf(part, sizeof(part), "%s.part", iso);
        snprintf(ud, sizeof(ud), "%s/user-data", dir);
        snprintf(md, sizeof(md), "%s/meta-data", dir);
        snprintf(nc, sizeof(nc), "%s/network-config", dir);
        unlink(part);
        const char *x[] = {"xorriso", "-as", "genisoimage", "-quiet", "-output", part,
                           "-volid", "cidata", "-joliet", "-rock", ud, md,
                           net ? nc : NULL, NULL};
        const char *g[] = {"genisoimage", "-quiet", "-output", part, "-volid", "cidata",
                           "-joliet", "-rock", ud, md, net ? nc : NULL, NULL};
        char *out = NULL;
        int r = virt_run(tool, !strcmp(tool, "xorriso") ? x : g, &out);
        if (r == 0 && rename(part, iso) < 0)
                r = -errno;
        if (r < 0) {
                unlink(part);
                snprintf(note, note_len, "cloud_init: %s failed: %s", tool,
                         out && *out ? out : strerror(-r));
        }
        free(out);
        return r;
}

int virt_seed(const char *state_dir, const struct nr_vm *vm, char *path, size_t path_len,
              char *note, size_t note_len)
{
        const struct nr_cloud_init *ci = &vm->cloud_init;
        char dir[4200], f[4300], hashfile[4300], hash[32];
        struct nr_ci_seed seed;
        int r = -ENOMEM;
        char *ud = text_of(ci->user_data, ci->user_data_file, note, note_len);
        char *nc = text_of(ci->network_config, ci->network_config_file, note, note_len);
        if (!ud || ((ci->network_config || ci->network_config_file) && !nc)) {
                free(ud);
                free(nc);
                return -ENOENT;
        }
        cloud_init_seed(vm->name, ud, nc, &seed);
        snprintf(hash, sizeof(hash), "%016" PRIx64 "\n",
                 fnv64(fnv64(fnv64(14695981039346656037ull, seed.meta_data), ud), nc));
        domain_seed_path(state_dir, vm->name, path, path_len);
        snprintf(hashfile, sizeof(hashfile), "%s.hash", path);
        size_t len;
        char *old = file_read(hashfile, &len);
        bool same = old && !strcmp(old, hash) && access(path, R_OK) == 0;
        free(old);
        if (same) {
                r = 0;
                goto out;
        }
        snprintf(dir, sizeof(dir), "%s/cloud-init/%s.d", state_dir, vm->name);
        if ((r = dir_ensure(dir, 0700)) < 0)
                goto out;
        snprintf(f, sizeof(f), "%s/user-data", dir);
        if ((r = file_write_atomic(f, ud, 0600)) < 0)
                goto out;
        snprintf(f, sizeof(f), "%s/meta-data", dir);
        if ((r = file_write_atomic(f, seed.meta_data, 0600)) < 0)
                goto out;
        snprintf(f, sizeof(f), "%s/network-config", dir);
        if (nc && (r = file_write_atomic(f, nc, 0600)) < 0)
                goto out;
        if (!nc)
                unlink(f);
        if ((r = build(dir, path, nc != NULL, note, note_len)) < 0)
                goto out;
        file_write_atomic(hashfile, hash, 0600);
        log_obj(LOG_PRI_INFO, "vm", vm->name, "%s: cloud-init seed %s built (instance-id %s)",
                vm->name, path, seed.instance_id);
out:
        if (r < 0 && !note[0])
                snprintf(note, note_len, "cloud_init: cannot write the seed: %s", strerror(-r));
        free(ud);
        free(nc);
        return r;
}
