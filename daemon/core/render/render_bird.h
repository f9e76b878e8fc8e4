/* BIRD 2's configuration for the BGP sessions with Azure Route Server (`bgp:`). Pure.
 *
 * The text has two parts. The policy part (what is advertised, the AS-path prepend, what is
 * accepted, the kernel export) comes first; BIRD applies a change there with `configure`
 * without resetting a session (static routes are added and withdrawn, a changed export filter
 * re-exports, a changed import filter asks the peer for a route refresh). The session part
 * (router ID, ASNs, neighbors, timers, multihop), after NR_BIRD_SESSIONS_MARK, is what BIRD can
 * only change by restarting the BGP protocol: bird_conf_keep_sessions() lets the daemon defer
 * such a change while the sessions are up. */
#pragma once

#include <stdbool.h>

#include "core/config/config.h"
#include "core/model/model.h"

#define NR_BIRD_SESSIONS_MARK "# ---- sessions (a change here restarts them)\n"
/* BGP protocols are named NR_BIRD_PROTO_PREFIX1, 2, ... in peer order. */
#define NR_BIRD_PROTO_PREFIX "nr_rs"

/* advertise: the health gate and drain allow it; otherwise the prefixes are withdrawn (the
 * static protocol lists none) and `why` (may be NULL) says why in a comment. lan: the LAN
 * uplink's fact (its address, when known, is the router ID and the sessions' source). NULL on
 * allocation failure; cfg->bgp must be present. */
char *render_bird(const struct nr_config *cfg, const struct nr_uplink_fact *lan, bool advertise,
                  const char *why);

/* What to apply while sessions are up: the new text, except that each session that is up
 * (bit n-1 of `up` for NR_BIRD_PROTO_PREFIXn) keeps its block from the old text, and the old
 * router ID stays (a new one restarts them all). Sessions added or down take their new blocks,
 * removed ones go. NULL when the two session parts are the same, when either text lacks the
 * mark, when nothing is up, or on allocation failure. */
char *bird_conf_keep_sessions(const char *old_conf, const char *new_conf, unsigned up);

/* True when the session parts of the two texts differ (a missing text or mark counts as
 * different). */
bool bird_conf_sessions_differ(const char *a, const char *b);
