/* Blank disks (see blank.h). qemu-img runs synchronously: create and resize of a qcow2 only
 * write metadata (milliseconds), and it is bounded by a timeout; the guest pass runs apart from
 * the network pass. */
#include "backend/virt/blank.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/render/render_domain.h"
#include "lib/fileio.h"
#include "lib/log.h"

#define QEMU_IMG_TIMEOUT_MS 10000

int virt_qcow2_size(const char *path, uint64_t *size)
{
        uint8_t h[32];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = pread(fd, h, sizeof(h), 0);
        close(fd);
        if (n != (ssize_t)sizeof(h) || memcmp(h, "QFI\xfb", 4))
                return -EINVAL;
        *size = 0;
        for (int i = 0; i < 8; i++)
                *size = *size << 8 | h[24 + i];
        return 0;
}

int virt_run(const char *bin, const char *const *argv, char **out)
{
        char tmpl[] = "/tmp/nestrouter-qemu-img.XXXXXX";
        int ofd = mkostemp(tmpl, O_CLOEXEC);
        if (ofd < 0)
                return -errno;
        unlink(tmpl);
        pid_t pid = fork();
        if (pid < 0) {
                close(ofd);
                return -errno;
        }
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                int fd = open("/dev/null", O_RDONLY);
                if (fd >= 0)
                        dup2(fd, 0);
                dup2(ofd, 1), dup2(ofd, 2);
                execvp(bin, (char *const *)argv);
                _exit(127);
        }
        int st = 0, r = -ETIMEDOUT;
        for (int ms = 0; ms < QEMU_IMG_TIMEOUT_MS; ms += 5) {
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        r = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
                        break;
                }
                nanosleep(&(struct timespec){0, 5000000}, NULL);
        }
        if (r == -ETIMEDOUT) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        if (out) {
                char buf[4096];
                ssize_t n = pread(ofd, buf, sizeof(buf) - 1, 0);
                buf[n > 0 ? n : 0] = '\0';
                *out = strdup(buf);
        }
        close(ofd);
        return r;
}

int virt_qemu_img(const char *const *argv, char **out)
{
        return virt_run(getenv("NR_QEMU_IMG") ? getenv("NR_QEMU_IMG") : "qemu-img", argv, out);
}

/* PATH.part, in PATH's directory (made when missing; QEMU's user may traverse it, not list it),
 * left over from nothing: a disk is created there and renamed into place only when it is
 * whole. */
static void part_path(const char *path, char *part, size_t size)
{
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = '\0';
        dir_ensure_mode(dir, DOMAIN_DIR_MODE);
        snprintf(part, size, "%s.part", path);
        unlink(part);
}

static int qemu_img(const char *const *argv)
{
        return virt_qemu_img(argv, NULL);
}

const char *virt_image_format(const char *path)
{
        uint8_t h[4];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? pread(fd, h, 4, 0) : -1;
        if (fd >= 0)
                close(fd);
        return n == 4 && !memcmp(h, "QFI\xfb", 4) ? "qcow2" : "raw";
}

int virt_overlay_disk(const char *path, const char *base, bool recreate, char *note,
                      size_t note_len)
{
        char part[4200];
        if (!recreate && access(path, F_OK) == 0)
                return 0;
        if (access(base, R_OK) < 0) {
                int r = -errno;
                snprintf(note, note_len, "base %s: %s", base, strerror(errno));
                return r;
        }
        part_path(path, part, sizeof(part));
        /* the base is only ever read: QEMU opens a backing file read-only */
        const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-F",
                              virt_image_format(base), "-b", base, part, NULL};
        int r = qemu_img(argv);
        if (r == 0 && rename(part, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(part);
                snprintf(note, note_len, "cannot create the overlay %s of %s: %s", path, base,
                         strerror(-r));
                return r;
        }
        log_info("%s %s, an overlay of %s", recreate ? "recreated" : "created", path, base);
        return 0;
}

static void human(uint64_t v, char *buf, size_t n)
{
        if (v % (1ull << 30) == 0)
                snprintf(buf, n, "%" PRIu64 "GiB", v >> 30);
        else
                snprintf(buf, n, "%" PRIu64 "MiB", v >> 20);
}

int virt_blank_disk(const char *path, uint64_t size, bool running, char *note, size_t note_len)
{
        char want[32], have[32], sz[32], part[4200];
        uint64_t cur;
        human(size, want, sizeof(want));
        snprintf(sz, sizeof(sz), "%" PRIu64, size);
        if (access(path, F_OK) < 0) {
                part_path(path, part, sizeof(part));
                const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", part, sz, NULL};
                int r = qemu_img(argv);
                if (r == 0 && rename(part, path) < 0)
                        r = -errno;
                if (r < 0) {
                        unlink(part);
                        snprintf(note, note_len, "cannot create the blank disk %s (%s): %s",
                                 path, want, strerror(-r));
                        return r;
                }
                log_info("created the blank disk %s (%s)", path, want);
                return 0;
        }
        int r = virt_qcow2_size(path, &cur);
        if (r < 0) {
                snprintf(note, note_len, "%s: not a qcow2 (%s); it is never recreated", path,
                         strerror(-r));
                return r;
        }
        human(cur, have, sizeof(have));
        if (cur > size) {
                snprintf(note, note_len, "%s is %s; a disk is never shrunk, so it stays %s "
                                         "(size %s refused)", path, have, have, want);
                return 0;
        }
        if (cur == size)
                return 0;
        if (running) {
                snprintf(note, note_len, "%s grows from %s to %s when the guest is off", path,
                         have, want);
                return 0;
        }
        const char *argv[] = {"qemu-img", "resize", "-q", "-f", "qcow2", path, sz, NULL};
        if ((r = qemu_img(argv)) < 0) {
                snprintf(note, note_len, "cannot grow %s from %s to %s: %s", path, have, want,
                         strerror(-r));
                return 0; /* still attachable as it is */
        }
        log_info("grew %s from %s to %s", path, have, want);
        return 0;
}
