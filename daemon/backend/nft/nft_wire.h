/* A delta's ops (nftdiff.h) as nf_tables netlink messages, for the common reload (elements
 * added or deleted, named counters added or deleted, rules deleted): one batch the backend sends
 * itself, so such a reload needs neither libnftables' parser nor the cache it lists from the
 * kernel first. Whatever this encoder does not know exactly (an interval set, a rule added or
 * replaced) makes it decline, and the script goes through libnftables as before. The
 * bytes are those nft 1.0.6 sends for the same commands (tests/unit/test_nft_wire.c). Pure: a
 * buffer out, no socket. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/model/nft_model.h"
#include "core/model/nftdiff.h"

/* The ops as one batch (begin, one message per element run, object or rule, end) in *buf
 * (caller frees), its length in *len; messages numbered from seq on. `t` is the table the ops
 * lead to (its sets' types). 0; -EOPNOTSUPP when an op is not one this encoder knows (nothing is
 * allocated), or -ENOMEM. */
int nftw_batch(const struct nftd_ops *ops, const struct nftm_table *t, uint32_t seq, void **buf,
               size_t *len);
