/* A recursive-descent JSON reader (RFC 8259 subset: no surrogate pairs are combined; \u escapes
 * above 0x7f become UTF-8). Recursion is bounded by JSON_MAX_DEPTH. */
#include "core/parse/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/lib/hex.h"

struct jp {
        const char *s, *end;
        const char *err;
};

static void skip_ws(struct jp *p)
{
        while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
                p->s++;
}

static bool fail(struct jp *p, const char *why)
{
        if (!p->err)
                p->err = why;
        return false;
}

static size_t put_utf8(char *o, unsigned cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
}

static bool parse_escape(struct jp *p, char *o, size_t *n)
{
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = p->s < p->end ? strchr(from, *p->s) : NULL;
        if (k && *p->s) {
                o[(*n)++] = to[k - from];
                p->s++;
                return true;
        }
        if (p->s >= p->end || *p->s != 'u' || p->end - p->s < 5)
                return fail(p, "bad escape");
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
                int h = hexval(p->s[i]);
                if (h < 0)
                        return fail(p, "bad \\u escape");
                cp = cp << 4 | (unsigned)h;
        }
        p->s += 5;
        *n += put_utf8(o + *n, cp ? cp : '?');
        return true;
}

/* A string at p->s (on the opening quote); the decoded text is never longer than the source. */
static char *parse_string(struct jp *p)
{
        const char *start = ++p->s;
        char *o = malloc((size_t)(p->end - start) + 4);
        size_t n = 0;
        if (!o) {
                fail(p, "out of memory");
                return NULL;
        }
        while (p->s < p->end && *p->s != '"') {
                unsigned char c = (unsigned char)*p->s;
                if (c < 0x20) {
                        fail(p, "control character in string");
                        break;
                }
                p->s++;
                if (c != '\\')
                        o[n++] = (char)c;
                else if (!parse_escape(p, o, &n))
                        break;
        }
        if (p->err || p->s >= p->end) {
                fail(p, "unterminated string");
                free(o);
                return NULL;
        }
        p->s++;
        o[n] = '\0';
        return o;
}

static char *parse_number(struct jp *p)
{
        const char *start = p->s;
        if (p->s < p->end && *p->s == '-')
                p->s++;
        const char *digits = p->s;
        while (p->s < p->end && strchr("0123456789.eE+-", *p->s) && *p->s)
                p->s++;
        if (p->s == digits || hexval(*digits) < 0 || *digits > '9') {
                fail(p, "bad number");
                return NULL;
        }
        size_t len = (size_t)(p->s - start);
        char *o = malloc(len + 1);
        if (!o) {
                fail(p, "out of memory");
                return NULL;
        }
        memcpy(o, start, len);
        o[len] = '\0';
        return o;
}

static bool literal(struct jp *p, const char *word)
{
        size_t n = strlen(word);
        if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n))
                return fail(p, "unexpected character");
        p->s += n;
        return true;
}

static struct json *parse_value(struct jp *p, int depth);

/* Elements of an array or members of an object, after the opening bracket. */
static bool parse_items(struct jp *p, struct json *j, int depth)
{
        bool obj = j->type == JSON_TYPE_OBJECT;
        char close = obj ? '}' : ']';
        struct json **tail = &j->child;
        skip_ws(p);
        if (p->s < p->end && *p->s == close) {
                p->s++;
                return true;
        }
        for (;;) {
                char *key = NULL;
                skip_ws(p);
                if (obj) {
                        if (p->s >= p->end || *p->s != '"')
                                return fail(p, "expected member name");
                        if (!(key = parse_string(p)))
                                return false;
                        skip_ws(p);
                        if (p->s >= p->end || *p->s != ':') {
                                free(key);
                                return fail(p, "expected ':'");
                        }
                        p->s++;
                }
                struct json *v = parse_value(p, depth + 1);
                if (!v) {
                        free(key);
                        return false;
                }
                v->key = key;
                *tail = v;
                tail = &v->next;
                skip_ws(p);
                if (p->s < p->end && *p->s == ',') {
                        p->s++;
                        continue;
                }
                if (p->s < p->end && *p->s == close) {
                        p->s++;
                        return true;
                }
                return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
}

static struct json *parse_value(struct jp *p, int depth)
{
        if (depth > JSON_MAX_DEPTH) {
                fail(p, "nested too deeply");
                return NULL;
        }
        skip_ws(p);
        if (p->s >= p->end) {
                fail(p, "unexpected end");
                return NULL;
        }
        struct json *j = calloc(1, sizeof(*j));
        if (!j) {
                fail(p, "out of memory");
                return NULL;
        }
        bool ok = true;
        switch (*p->s) {
        case '{':
        case '[':
                j->type = *p->s == '{' ? JSON_TYPE_OBJECT : JSON_TYPE_ARRAY;
                p->s++;
                ok = parse_items(p, j, depth);
                break;
        case '"':
                j->type = JSON_TYPE_STRING;
                ok = (j->str = parse_string(p)) != NULL;
                break;
        case 't':
        case 'f':
                j->type = JSON_TYPE_BOOL;
                j->b = *p->s == 't';
                ok = literal(p, j->b ? "true" : "false");
                break;
        case 'n':
                ok = literal(p, "null");
                break;
        default:
                j->type = JSON_TYPE_NUMBER;
                ok = (j->str = parse_number(p)) != NULL;
                break;
        }
        if (!ok) {
                json_free(j);
                return NULL;
        }
        return j;
}

struct json *json_parse(const char *text, size_t len, const char **err)
{
        struct jp p = {text, text + len, NULL};
        struct json *j = parse_value(&p, 0);
        if (j) {
                skip_ws(&p);
                if (p.s != p.end) {
                        fail(&p, "trailing characters");
                        json_free(j);
                        j = NULL;
                }
        }
        if (err)
                *err = p.err;
        return j;
}

void json_free(struct json *j)
{
        while (j) {
                struct json *next = j->next;
                json_free(j->child);
                free(j->key);
                free(j->str);
                free(j);
                j = next;
        }
}

const struct json *json_get(const struct json *j, const char *key)
{
        if (!j || j->type != JSON_TYPE_OBJECT)
                return NULL;
        for (const struct json *c = j->child; c; c = c->next)
                if (c->key && !strcmp(c->key, key))
                        return c;
        return NULL;
}

const char *json_get_str(const struct json *j, const char *key)
{
        const struct json *v = json_get(j, key);
        return v && v->type == JSON_TYPE_STRING ? v->str : NULL;
}
