/* GPT and qcow2, just enough of both to find an EFI system partition in the first few hundred
 * KiB of a guest disk. */
#include "core/parse/diskprobe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define QCOW2_OFF_MASK 0x00fffffffffffe00ull

/* the ESP's type GUID C12A7328-F81F-11D2-BA4B-00A0C93EC93B as GPT stores it (mixed endian) */
static const uint8_t esp_guid[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                     0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
        return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t)le32(p + 4) << 32 | le32(p);
}

struct img {
        disk_read_fn rd;
        void *ctx;
        disk_inflate_fn inf;
        uint8_t *cbuf;             /* the last compressed cluster, inflated */
        uint64_t cbuf_entry;       /* its L2 entry */
        bool qcow2;
        uint32_t cluster_bits;
        uint64_t l1_off;
        uint32_t l1_size;
};

static int img_open(struct img *m, disk_read_fn rd, void *ctx, disk_inflate_fn inf)
{
        uint8_t h[104];
        memset(m, 0, sizeof(*m));
        m->rd = rd;
        m->ctx = ctx;
        m->inf = inf;
        int r = rd(ctx, h, sizeof(h), 0);
        if (r < 0)
                return r;
        if (memcmp(h, "QFI\xfb", 4))
                return 0; /* raw */
        uint32_t version = be32(h + 4);
        m->qcow2 = true;
        m->cluster_bits = be32(h + 20);
        m->l1_size = be32(h + 36);
        m->l1_off = be64(h + 40);
        if (be32(h + 32) != 0) /* encrypted */
                return -ENOTSUP;
        if (m->cluster_bits < 9 || m->cluster_bits > 21 || (version != 2 && version != 3))
                return -EINVAL;
        if (version == 3 && (be64(h + 72) & ~1ull)) /* only "dirty" understood */
                return -ENOTSUP;
        return 0;
}

/* A compressed cluster: host offset in the low x bits, then the count of 512-byte sectors it
 * spans minus one (qcow2 spec, "Compressed Clusters Descriptor"). Inflated once, kept. */
static int compressed(struct img *m, uint64_t ent, uint64_t in_cluster, uint8_t *buf)
{
        uint64_t csize = 1ull << m->cluster_bits;
        unsigned x = 62 - (m->cluster_bits - 8);
        if (!m->inf)
                return -ENOTSUP;
        if (!m->cbuf || m->cbuf_entry != ent) {
                uint64_t host = ent & ((1ull << x) - 1);
                uint64_t sectors = ((ent >> x) & ((1ull << (m->cluster_bits - 8)) - 1)) + 1;
                size_t n = (size_t)(sectors * SECTOR - host % SECTOR);
                uint8_t *in = malloc(n);
                if (!m->cbuf)
                        m->cbuf = malloc(csize);
                if (!in || !m->cbuf) {
                        free(in);
                        return -ENOMEM;
                }
                int r = m->rd(m->ctx, in, n, host);
                /* the last cluster of a file may be shorter than its sector count says */
                for (size_t k = n; r == -EIO && k > SECTOR; k -= SECTOR)
                        r = m->rd(m->ctx, in, n = k - SECTOR, host);
                if (r >= 0)
                        r = m->inf(in, n, m->cbuf, csize);
                free(in);
                if (r < 0)
                        return r;
                m->cbuf_entry = ent;
        }
        memcpy(buf, m->cbuf + in_cluster, SECTOR);
        return 0;
}

/* one sector at a guest offset (sector aligned) */
static int img_sector(struct img *m, uint64_t off, uint8_t *buf)
{
        if (!m->qcow2)
                return m->rd(m->ctx, buf, SECTOR, off);
        uint64_t csize = 1ull << m->cluster_bits, l2_entries = csize / 8;
        uint64_t l1_idx = off / (csize * l2_entries), l2_idx = (off / csize) % l2_entries;
        uint8_t e[8];
        if (l1_idx >= m->l1_size)
                return -EINVAL;
        int r = m->rd(m->ctx, e, 8, m->l1_off + 8 * l1_idx);
        if (r < 0)
                return r;
        uint64_t l2 = be64(e) & QCOW2_OFF_MASK;
        if (l2) {
                r = m->rd(m->ctx, e, 8, l2 + 8 * l2_idx);
                if (r < 0)
                        return r;
        }
        uint64_t ent = l2 ? be64(e) : 0;
        if (ent & (1ull << 62))
                return compressed(m, ent, off % csize, buf);
        uint64_t data = ent & QCOW2_OFF_MASK;
        if (!data || (ent & 1)) { /* unallocated or zero: zeros (a backing file is not read) */
                memset(buf, 0, SECTOR);
                return 0;
        }
        return m->rd(m->ctx, buf, SECTOR, data + off % csize);
}

static int say(char *why, size_t n, int r, const char *text)
{
        if (why && n)
                snprintf(why, n, "%s", text);
        return r;
}

static int probe(struct img *m, char *why, size_t why_len)
{
        uint8_t s[SECTOR];
        int r;
        if ((r = img_sector(m, SECTOR, s)) < 0)
                return say(why, why_len, r, "cannot read the disk's partition table");
        if (memcmp(s, "EFI PART", 8))
                return say(why, why_len, 0, "no GPT partition table");
        uint64_t lba = le64(s + 72);
        uint32_t count = le32(s + 80), esize = le32(s + 84);
        if (esize < 128 || esize > 4096 || esize % 128 || count > 1024 || lba < 2 || lba > 1u << 20)
                return say(why, why_len, 0, "a GPT with a malformed header");
        for (uint32_t i = 0; i < count; i++) {
                uint64_t off = lba * SECTOR + (uint64_t)i * esize;
                if ((r = img_sector(m, off - off % SECTOR, s)) < 0)
                        return say(why, why_len, r, "cannot read the GPT entries");
                if (!memcmp(s + off % SECTOR, esp_guid, 16))
                        return say(why, why_len, 1, "GPT disk with an EFI system partition");
        }
        return say(why, why_len, 0, "GPT disk without an EFI system partition");
}

int disk_probe_esp(disk_read_fn rd, void *ctx, disk_inflate_fn inf, char *why, size_t why_len)
{
        struct img m;
        int r = img_open(&m, rd, ctx, inf);
        if (r < 0)
                return say(why, why_len, r, r == -ENOTSUP ? "a qcow2 it cannot read (encrypted, "
                                                            "zstd or extended L2)"
                                                          : "cannot read the disk image");
        r = probe(&m, why, why_len);
        free(m.cbuf);
        return r;
}
