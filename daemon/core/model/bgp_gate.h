/* The health gate of the BGP advertisement: this host advertises its guest subnet only while it
 * can serve it, judged from what a pass observes (the guest bridge up with its gateway address,
 * IPv4 forwarding on, the nft table in place, dnsmasq running) and from the drain switch. Pure:
 * the planner asks it every pass and picks BIRD's configuration accordingly. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/model/plan.h"

/* True: advertise. False: withdraw, with the first reason found in why (one line). */
bool bgp_gate(const struct nr_desired *want, const struct nr_observed *have, char *why,
              size_t size);
