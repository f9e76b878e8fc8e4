/* Blank disks (see blank.h). qemu-img runs synchronously: create and resize of a qcow2 only
 * write metadata (milliseconds), and it is bounded by a timeout; the guest pass runs apart from
 * the network pass. */
#include "blank.h"

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

#include "fileio.h"
#include "log.h"

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

/* qemu-img ARGS... with stdout/stderr to /dev/null; 0, or -errno / -EIO on failure */
static int qemu_img(const char *const *argv)
{
        const char *bin = getenv("NR_QEMU_IMG") ? getenv("NR_QEMU_IMG") : "qemu-img";
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                int fd = open("/dev/null", O_RDWR);
                if (fd >= 0) {
                        dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
                }
                execvp(bin, (char *const *)argv);
                _exit(127);
        }
        int st = 0;
        for (int ms = 0; ms < QEMU_IMG_TIMEOUT_MS; ms += 5) {
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r == pid)
                        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
                nanosleep(&(struct timespec){0, 5000000}, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -ETIMEDOUT;
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
        char want[32], have[32], sz[32], part[4200], dir[4200];
        uint64_t cur;
        human(size, want, sizeof(want));
        snprintf(sz, sizeof(sz), "%" PRIu64, size);
        if (access(path, F_OK) < 0) {
                snprintf(dir, sizeof(dir), "%s", path);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *slash = '\0';
                dir_ensure(dir, 0700);
                snprintf(part, sizeof(part), "%s.part", path);
                unlink(part);
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
