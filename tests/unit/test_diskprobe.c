/* core/parse/diskprobe.c: an EFI system partition found in a raw GPT image and through a qcow2's
 * L1/L2 tables; none on MBR, on a GPT with only other partitions, or in an empty qcow2; qcow2
 * files it cannot follow (compressed cluster, encryption) are errors, not guesses. */
#include "unit_helpers.h"

#include <errno.h>
#include <stdlib.h>

#include "core/parse/diskprobe.h"

struct mem {
        uint8_t *p;
        size_t n;
};

static int mem_read(void *ctx, void *buf, size_t n, uint64_t off)
{
        struct mem *m = ctx;
        if (off > m->n || n > m->n - off)
                return -EIO;
        memcpy(buf, m->p + off, n);
        return (int)n;
}

static void le32w(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void be32w(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void be64w(uint8_t *p, uint64_t v)
{
        be32w(p, (uint32_t)(v >> 32));
        be32w(p + 4, (uint32_t)v);
}

/* 34 sectors: protective MBR, GPT header, 128 entries of 128 bytes; entry 1 is of type t */
static void gpt(uint8_t *d, const uint8_t t[16])
{
        memset(d, 0, 34 * 512);
        d[510] = 0x55, d[511] = 0xaa;
        memcpy(d + 512, "EFI PART", 8);
        le32w(d + 512 + 72, 2);   /* entries at LBA 2 (64-bit, high half 0) */
        le32w(d + 512 + 80, 128);
        le32w(d + 512 + 84, 128);
        memcpy(d + 1024 + 128, t, 16);
}

static const uint8_t esp[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};
static const uint8_t linux_fs[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                     0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};

static void test_raw(void **state)
{
        static uint8_t d[34 * 512];
        struct mem m = {d, sizeof(d)};
        char why[120];
        (void)state;
        gpt(d, esp);
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), 1);
        assert_string_equal(why, "GPT disk with an EFI system partition");
        gpt(d, linux_fs);
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), 0);
        assert_string_equal(why, "GPT disk without an EFI system partition");
        memset(d + 512, 0, 8); /* an MBR disk */
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), 0);
        assert_string_equal(why, "no GPT partition table");
        m.n = 100; /* shorter than a sector */
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), -EIO);
}

/* a qcow2 v3 with 64 KiB clusters: header, L1 at cluster 1, L2 at 2, guest cluster 0 at 3 */
#define CL 65536u
static void qcow2(uint8_t *f, bool with_data)
{
        memset(f, 0, 4 * CL);
        memcpy(f, "QFI\xfb", 4);
        be32w(f + 4, 3);
        be32w(f + 20, 16);
        be64w(f + 24, 1ull << 30);
        be32w(f + 36, 1);
        be64w(f + 40, CL);
        be64w(f + CL, 2ull * CL | 1ull << 63); /* L1[0] -> L2, COPIED flag */
        if (with_data)
                be64w(f + 2 * CL, 3ull * CL | 1ull << 63);
        gpt(f + 3 * CL, esp);
}

/* stands in for zlib: the "compressed" bytes are a GPT with an ESP */
static size_t inflated_in_len;
static int fake_inflate(const void *in, size_t in_len, void *out, size_t out_len)
{
        (void)in;
        inflated_in_len = in_len;
        assert_int_equal(out_len, CL);
        memset(out, 0, out_len);
        gpt(out, esp);
        return 0;
}

static void test_qcow2(void **state)
{
        uint8_t *f = malloc(4 * CL);
        struct mem m = {f, 4 * CL};
        char why[120];
        (void)state;
        assert_non_null(f);
        qcow2(f, true);
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), 1);
        qcow2(f, false); /* a new, empty qcow2: zeros, no GPT */
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), 0);
        assert_string_equal(why, "no GPT partition table");
        qcow2(f, true);
        /* compressed (what `qemu-img convert -c` writes): x = 62 - (16 - 8) = 54 offset bits,
         * 2 sectors at 3 * CL + 100 */
        be64w(f + 2 * CL, 1ull << 62 | 1ull << 54 | (3ull * CL + 100));
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)), -ENOTSUP);
        assert_int_equal(disk_probe_esp(mem_read, &m, fake_inflate, why, sizeof(why)), 1);
        assert_int_equal(inflated_in_len, 2 * 512 - 100);
        qcow2(f, true);
        be32w(f + 32, 1); /* AES */
        assert_int_equal(disk_probe_esp(mem_read, &m, NULL, why, sizeof(why)),
                         -ENOTSUP);
        free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {TEST(test_raw), TEST(test_qcow2)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
