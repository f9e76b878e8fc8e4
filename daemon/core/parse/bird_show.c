/* Parsing BIRD's control-socket replies (bird_show.h). */
#include "core/parse/bird_show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/render/render_bird.h"

static bool is_code(const char *l)
{
        for (int i = 0; i < 4; i++)
                if (l[i] < '0' || l[i] > '9')
                        return false;
        return l[4] == ' ' || l[4] == '-';
}

bool bird_reply_complete(const char *reply, size_t len)
{
        if (!len || reply[len - 1] != '\n')
                return false;
        /* the start of the last line */
        size_t s = len - 1;
        while (s && reply[s - 1] != '\n')
                s--;
        return len - s >= 5 && is_code(reply + s) && reply[s + 4] == ' ';
}

static const char *last_line(const char *reply)
{
        const char *last = NULL;
        for (const char *l = reply; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l))
                if (is_code(l) && l[4] == ' ')
                        last = l;
        return last;
}

int bird_reply_code(const char *reply)
{
        const char *l = last_line(reply);
        return l ? (int)strtol(l, NULL, 10) : -1;
}

void bird_reply_message(const char *reply, char *buf, size_t size)
{
        const char *l = NULL;
        for (const char *p = reply; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
                if (is_code(p) && (p[0] == '8' || p[0] == '9')) {
                        l = p;
                        break;
                }
        if (!l)
                l = last_line(reply);
        if (!l) {
                snprintf(buf, size, "no reply");
                return;
        }
        size_t n = strcspn(l + 5, "\n");
        snprintf(buf, size, "%.*s", (int)n, l + 5);
}

/* "nr_rs1  BGP  ---  up  2026-12-06 12:11:57  Established" */
static void protocol_row(const char *text, struct nr_bird_sessions *out)
{
        char name[32], proto[16], table[32], state[16], d1[16], d2[16];
        int used = 0;
        if (sscanf(text, "%31s %15s %31s %15s %15s %15s %n", name, proto, table, state, d1, d2,
                   &used) < 6 || strcmp(proto, "BGP") || out->n >= NR_BIRD_SESSIONS_MAX)
                return;
        struct nr_bird_session *s = &out->v[out->n++];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", name);
        size_t pl = strlen(NR_BIRD_PROTO_PREFIX);
        if (!strncmp(name, NR_BIRD_PROTO_PREFIX, pl) && name[pl] >= '1' && name[pl] <= '9')
                s->index = (unsigned)strtoul(name + pl, NULL, 10);
        s->up = !strcmp(state, "up");
        snprintf(s->since, sizeof(s->since), "%s %s", d1, d2);
        const char *info = used ? text + used : "";
        size_t n = strcspn(info, "\n");
        while (n && info[n - 1] == ' ')
                n--;
        snprintf(s->info, sizeof(s->info), "%.*s", (int)n, info);
}

static void copy_value(const char *text, const char *key, char *out, size_t size)
{
        const char *v = text + strlen(key);
        v += strspn(v, " ");
        size_t n = strcspn(v, "\n");
        while (n && v[n - 1] == ' ')
                n--;
        snprintf(out, size, "%.*s", (int)n, v);
}

/* A detail line ("BGP state:          Established") of the last protocol row. */
static void detail(const char *text, struct nr_bird_sessions *out)
{
        if (!out->n)
                return;
        struct nr_bird_session *s = &out->v[out->n - 1];
        text += strspn(text, " ");
        if (!strncmp(text, "BGP state:", 10))
                copy_value(text, "BGP state:", s->state, sizeof(s->state));
        else if (!strncmp(text, "Neighbor address:", 17))
                copy_value(text, "Neighbor address:", s->neighbor, sizeof(s->neighbor));
        else if (!strncmp(text, "Routes:", 7))
                sscanf(text, "Routes: %u imported, %u exported", &s->imported, &s->exported);
}

void bird_parse_protocols(const char *reply, struct nr_bird_sessions *out)
{
        int code = -1;
        out->n = 0;
        for (const char *l = reply; *l;) {
                const char *text;
                if (is_code(l)) {
                        code = (int)strtol(l, NULL, 10);
                        text = l + 5;
                } else {
                        text = l[0] == ' ' ? l + 1 : l;
                }
                if (code == 1002)
                        protocol_row(text, out);
                else if (code == 1006)
                        detail(text, out);
                const char *nl = strchr(l, '\n');
                if (!nl)
                        break;
                l = nl + 1;
        }
}

unsigned bird_sessions_up(const struct nr_bird_sessions *s)
{
        unsigned up = 0;
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].up && s->v[i].index >= 1 && s->v[i].index <= 32)
                        up |= 1u << (s->v[i].index - 1);
        return up;
}

unsigned bird_sessions_exported(const struct nr_bird_sessions *s)
{
        unsigned n = 0;
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].up && s->v[i].index >= 1)
                        n += s->v[i].exported;
        return n;
}
