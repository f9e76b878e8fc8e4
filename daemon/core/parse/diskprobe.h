/* What firmware a disk image wants: a GPT whose partition table has an EFI system partition
 * boots through UEFI, anything else through BIOS. Reads a raw image or a qcow2 (its first
 * clusters, through the L1/L2 tables) by a callback, so it stays pure and is tested on buffers. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Reads n bytes at off of the image file; returns n, or -errno (a short read is -EIO). */
typedef int (*disk_read_fn)(void *ctx, void *buf, size_t n, uint64_t off);

/* Inflates a raw deflate stream (a compressed qcow2 cluster, as `qemu-img convert -c` writes
 * them) into exactly out_len bytes; returns 0 or -errno. */
typedef int (*disk_inflate_fn)(const void *in, size_t in_len, void *out, size_t out_len);

/* 1: GPT with an EFI system partition; 0: no GPT or no ESP; -errno: unreadable image, or a qcow2
 * it cannot follow (encrypted, extended L2, zstd, compressed without inf). Clusters of a backing
 * file read as zeros. why (may be NULL) gets a short human reason either way. */
int disk_probe_esp(disk_read_fn rd, void *ctx, disk_inflate_fn inf, char *why, size_t why_len);
