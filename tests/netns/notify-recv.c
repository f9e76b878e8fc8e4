/* notify-recv: a NOTIFY_SOCKET for the netns tests (python is not guaranteed on CI).
 * Usage: notify-recv SOCKET SECONDS
 * Binds a unix datagram socket at SOCKET (a path: it works across network namespaces) and prints
 * every variable of every datagram as one line "MS PID KEY=VALUE", flushed at once: MS is
 * CLOCK_MONOTONIC in milliseconds, PID the sender's (SCM_CREDENTIALS). Exits after SECONDS, or
 * on SIGTERM/SIGINT, and removes SOCKET. Built by the tests with gcc into build/. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static long long mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_datagram(char *buf, size_t n, long long ms, int pid)
{
        buf[n] = '\0';
        for (char *line = buf, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (*line)
                        printf("%lld %d %s\n", ms, pid, line);
        }
        fflush(stdout);
}

static int receive(int fd)
{
        char buf[4097];
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(struct ucred))];
        } ctl;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        int pid = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred cr;
                        memcpy(&cr, CMSG_DATA(c), sizeof(cr));
                        pid = (int)cr.pid;
                }
        print_datagram(buf, (size_t)n, mono_ms(), pid);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc != 3 || atoi(argv[2]) <= 0) {
                fprintf(stderr, "usage: notify-recv SOCKET SECONDS\n");
                return 2;
        }
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "notify-recv: %s: path too long\n", argv[1]);
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        unlink(argv[1]);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "notify-recv: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        long long end = mono_ms() + 1000LL * atoi(argv[2]);
        int rc = 0;
        while (!stop && mono_ms() < end) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                long long left = end - mono_ms();
                int r = poll(&p, 1, left > 200 ? 200 : (int)(left > 0 ? left : 0));
                if (r > 0 && receive(fd) < 0) {
                        fprintf(stderr, "notify-recv: recvmsg: %s\n", strerror(errno));
                        rc = 1;
                        break;
                }
        }
        close(fd);
        unlink(argv[1]);
        return rc;
}
