/* The KVM probe: a forked child runs the guest, the parent waits on a pipe with a timeout and
 * kills the child if KVM_RUN never returns (which is how the broken hosts fail). */
#include "backend/virt/kvm_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The guest, loaded at 0x7c00 and entered in real mode with CS:IP 0:7c00 (a boot sector; it
 * was tested as one under TCG: `qemu-system-x86_64 -accel tcg -serial stdio -drive
 * file=probe.bin,format=raw` prints "L"). Built from (GNU as, ld -Ttext=0x7c00 --oformat binary):
 *
 *         .code16
 *         cli; xor %ax,%ax; mov %ax,%ds; mov %ax,%es; mov %ax,%ss
 *         mov $0x1000,%di; xor %eax,%eax; mov $0x1000,%ecx; cld; rep stosl  # clear 16 KiB
 *         movl $0x2003,0x1000; movl $0x3003,0x2000; movl $0x83,0x3000  # PML4, PDPT, 2 MiB page
 *         lgdtl gdtr
 *         mov $0x20,%eax; mov %eax,%cr4                   # PAE
 *         mov $0x1000,%eax; mov %eax,%cr3
 *         mov $0xc0000080,%ecx; rdmsr; or $0x100,%eax; wrmsr   # EFER.LME
 *         mov %cr0,%eax; or $0x80000001,%eax; mov %eax,%cr0    # PE + PG: long mode
 *         ljmpl $0x08,$long64
 *         .code64
 * long64: mov $0x10,%eax; mov %eax,%ds; mov %eax,%ss
 *         mov $0x3f8,%dx; mov $'L',%al; out %al,%dx; 1: hlt; jmp 1b
 *         .p2align 3
 * gdt:    .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
 * gdtr:   .word gdtr-gdt-1; .long gdt                                                       */
static const uint8_t probe_code[] = {
        0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbf, 0x00, 0x10, 0x66, 0x31,
        0xc0, 0x66, 0xb9, 0x00, 0x10, 0x00, 0x00, 0xfc, 0x66, 0xf3, 0xab, 0x66, 0xc7, 0x06,
        0x00, 0x10, 0x03, 0x20, 0x00, 0x00, 0x66, 0xc7, 0x06, 0x00, 0x20, 0x03, 0x30, 0x00,
        0x00, 0x66, 0xc7, 0x06, 0x00, 0x30, 0x83, 0x00, 0x00, 0x00, 0x66, 0x0f, 0x01, 0x16,
        0xa0, 0x7c, 0x66, 0xb8, 0x20, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0, 0x66, 0xb8, 0x00,
        0x10, 0x00, 0x00, 0x0f, 0x22, 0xd8, 0x66, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32,
        0x66, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, 0x0f, 0x20, 0xc0, 0x66, 0x0d, 0x01,
        0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0x66, 0xea, 0x70, 0x7c, 0x00, 0x00, 0x08, 0x00,
        0xb8, 0x10, 0x00, 0x00, 0x00, 0x8e, 0xd8, 0x8e, 0xd0, 0x66, 0xba, 0xf8, 0x03, 0xb0,
        0x4c, 0xee, 0xf4, 0xeb, 0xfd, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xaf, 0x00, 0xff, 0xff,
        0x00, 0x00, 0x00, 0x92, 0xcf, 0x00, 0x17, 0x00, 0x88, 0x7c, 0x00, 0x00,
};

#define GUEST_MEM 0x200000
#define LOAD_ADDR 0x7c00

/* In the child: run the guest; returns a message for the parent ("ok" on success). */
static void run_guest(const char *dev, char *msg, size_t len)
{
        int kvm = open(dev, O_RDWR | O_CLOEXEC);
        if (kvm < 0) {
                snprintf(msg, len, "%s: %s", dev, strerror(errno));
                return;
        }
        int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
        if (api != KVM_API_VERSION) {
                snprintf(msg, len, "%s: KVM API version %d, not %d", dev, api, KVM_API_VERSION);
                return;
        }
        int vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0) {
                snprintf(msg, len, "KVM_CREATE_VM: %s", strerror(errno));
                return;
        }
        /* what QEMU does for real mode on VMX without unrestricted guests (harmless on AMD) */
        ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
        uint64_t ident = 0xfffbc000ull;
        ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident);
        uint8_t *mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
        if (mem == MAP_FAILED) {
                snprintf(msg, len, "mmap: %s", strerror(errno));
                return;
        }
        memcpy(mem + LOAD_ADDR, probe_code, sizeof(probe_code));
        struct kvm_userspace_memory_region region = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM,
                .userspace_addr = (uint64_t)(uintptr_t)mem,
        };
        int vcpu = -1, size = -1;
        struct kvm_run *run = MAP_FAILED;
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ||
            (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
            (size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0 ||
            (run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0)) ==
                    MAP_FAILED) {
                snprintf(msg, len, "setting up a vCPU: %s", strerror(errno));
                return;
        }
        struct kvm_sregs sregs;
        struct kvm_regs regs = {.rip = LOAD_ADDR, .rflags = 2};
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
                snprintf(msg, len, "KVM_GET_SREGS: %s", strerror(errno));
                return;
        }
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
                snprintf(msg, len, "setting vCPU registers: %s", strerror(errno));
                return;
        }
        bool wrote = false;
        for (int i = 0; i < 4; i++) {
                if (ioctl(vcpu, KVM_RUN, 0) < 0) {
                        snprintf(msg, len, "KVM_RUN: %s", strerror(errno));
                        return;
                }
                if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x3f8 &&
                    run->io.direction == KVM_EXIT_IO_OUT &&
                    *((uint8_t *)run + run->io.data_offset) == 'L') {
                        wrote = true;
                        continue;
                }
                if (run->exit_reason == KVM_EXIT_HLT && wrote) {
                        snprintf(msg, len, "ok");
                        return;
                }
                snprintf(msg, len, "the probe guest stopped with KVM exit reason %u",
                         run->exit_reason);
                return;
        }
        snprintf(msg, len, "the probe guest did not halt");
}

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* reap the child, or give up after half a second (a child stuck in the kernel stays a zombie
 * of ours rather than blocking the caller) */
static void reap(pid_t pid)
{
        for (int i = 0; i < 50; i++) {
                if (waitpid(pid, NULL, WNOHANG) != 0)
                        return;
                usleep(10000);
        }
}

bool kvm_probe(const char *dev, unsigned timeout_ms, char *why, size_t whylen)
{
        int p[2];
        char msg[256] = "";
        if (access(dev, F_OK) < 0) {
                snprintf(why, whylen, "%s: %s", dev, strerror(errno));
                return false;
        }
        if (pipe2(p, O_CLOEXEC) < 0) {
                snprintf(why, whylen, "KVM probe: pipe: %s", strerror(errno));
                return false;
        }
        uint64_t t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(why, whylen, "KVM probe: fork: %s", strerror(errno));
                close(p[0]);
                close(p[1]);
                return false;
        }
        if (pid == 0) {
                close(p[0]);
                run_guest(dev, msg, sizeof(msg));
                ssize_t w = write(p[1], msg, strlen(msg));
                _exit(w < 0 ? 2 : 0);
        }
        close(p[1]);
        struct pollfd pfd = {.fd = p[0], .events = POLLIN};
        int r;
        do
                r = poll(&pfd, 1, (int)timeout_ms);
        while (r < 0 && errno == EINTR);
        ssize_t n = r > 0 ? read(p[0], msg, sizeof(msg) - 1) : -1;
        close(p[0]);
        uint64_t took = now_ms() - t0;
        if (r <= 0) {
                kill(pid, SIGKILL);
                reap(pid);
                snprintf(why, whylen,
                         "KVM probe: a guest entering long mode did not finish within %u ms "
                         "(KVM_RUN hangs: no usable hardware virtualization for nested guests)",
                         timeout_ms);
                return false;
        }
        reap(pid);
        msg[n > 0 ? n : 0] = '\0';
        if (!strcmp(msg, "ok")) {
                snprintf(why, whylen, "KVM probe: a guest entered long mode and halted in %llu ms",
                         (unsigned long long)took);
                return true;
        }
        snprintf(why, whylen, "KVM probe: %s", n > 0 ? msg : "the probe process failed");
        return false;
}

bool kvm_probe_cached(const char *cache_path, const char *dev, unsigned timeout_ms, char *why,
                      size_t whylen)
{
        char line[16] = "", tmp[4200];
        FILE *f = fopen(cache_path, "re");
        if (f) {
                bool ok = fgets(line, sizeof(line), f) && fgets(why, (int)whylen, f);
                fclose(f);
                why[strcspn(why, "\n")] = '\0';
                if (ok && (!strcmp(line, "kvm\n") || !strcmp(line, "tcg\n")))
                        return !strcmp(line, "kvm\n");
        }
        bool works = kvm_probe(dev, timeout_ms, why, whylen);
        snprintf(tmp, sizeof(tmp), "%s.tmp", cache_path);
        f = fopen(tmp, "we");
        if (f) {
                fprintf(f, "%s\n%s\n", works ? "kvm" : "tcg", why);
                if (fclose(f) == 0)
                        rename(tmp, cache_path);
                else
                        unlink(tmp);
        }
        return works;
}
