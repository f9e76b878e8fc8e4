/* BIRD's control-socket replies, parsed: each reply line is "DDDD-text" (more follows), "DDDD
 * text" (the last line) or " text" (continues the previous code). Pure, so the parsing of
 * `show protocols all` is unit-tested on captured text. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NR_BIRD_SESSIONS_MAX 32

struct nr_bird_session {
        char name[32];             /* the protocol: nr_rs1, ... */
        unsigned index;            /* N of nr_rsN; 0: not one of ours */
        char neighbor[48];
        char state[24];            /* BGP state: Established, Active, Connect, Idle, ... */
        char since[40];            /* when the protocol last changed state (BIRD's clock) */
        char info[96];             /* BIRD's info column (Established, an error, ...) */
        unsigned imported, exported;
        bool up;                   /* the protocol is up: the session is Established */
};

struct nr_bird_sessions {
        struct nr_bird_session v[NR_BIRD_SESSIONS_MAX];
        size_t n;
};

/* True when `reply` holds a complete reply (its last line has a code and a space). */
bool bird_reply_complete(const char *reply, size_t len);
/* The code of the reply's last line (0000 success, 8xxx/9xxx errors), -1 when there is none. */
int bird_reply_code(const char *reply);
/* The text of the reply's last line or of its first error line, for messages. */
void bird_reply_message(const char *reply, char *buf, size_t size);

/* The BGP protocols of a `show protocols all` reply. */
void bird_parse_protocols(const char *reply, struct nr_bird_sessions *out);
/* Bit n-1 set for each nr_rsN that is up. */
unsigned bird_sessions_up(const struct nr_bird_sessions *s);
/* The routes Established sessions of ours still export: 0 once a withdraw has gone out to every
 * peer (a drain waits for it). */
unsigned bird_sessions_exported(const struct nr_bird_sessions *s);
