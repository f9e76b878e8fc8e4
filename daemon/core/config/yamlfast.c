/* The fast path of the config parser: a line reader for the plain subset of YAML (yamlfast.h).
 * It declines, rather than guesses, wherever libyaml's reading is subtle: tabs, CR, non-ASCII,
 * anchors, tags, block scalars, multi-line scalars, escapes, empty values, nested flow
 * collections, complex keys, directives and more than one document. Positions are libyaml's:
 * a block mapping starts at its first key, a block list at its first '-', a flow collection at
 * its bracket, a quoted scalar at its quote. */
#include "core/config/yamlfast.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YF_BLOCK     6144 /* nodes per block: 144 KiB, above malloc's mmap threshold */
#define YF_CHUNK     (128 * 1024)
#define YF_MAX_DEPTH 64
#define YF_FLOW_DEPTH 4
#define YF_KEY_MAX   1000 /* libyaml's implicit keys end at 1024 characters */

struct yf_chunk {
        struct yf_chunk *next;
        size_t used, size;
        max_align_t data[];
};

/* the reader: r->p is the byte it looks at, on line r->line that starts at r->ls */
struct rd {
        struct yf_doc *d;
        const char *t;
        size_t n, p, line, ls;
        int depth, flow; /* block nesting; flow collections open */
        int err;         /* -ENOMEM */
};

/* ---------------------------------------------------------------- storage */

static const struct yf_region_ops *region_ops;

void yf_set_region_ops(const struct yf_region_ops *ops)
{
        region_ops = ops;
}

/* size bytes of the document's region, 16-aligned; NULL when it has none or no room left */
static void *region_take(struct yf_doc *d, size_t size)
{
        size_t at = (d->region_used + 15) & ~(size_t)15;
        if (!d->region || at > d->region_size || d->region_size - at < size)
                return NULL;
        d->region_used = at + size;
        return d->region + at;
}

static bool in_region(const struct yf_doc *d, const void *p)
{
        return d->region && (const char *)p >= d->region &&
               (const char *)p < d->region + d->region_size;
}

static void *take(struct yf_doc *d, size_t size)
{
        void *p = region_take(d, size);
        return p ? p : malloc(size);
}

static void give_back(struct yf_doc *d, void *p)
{
        if (!in_region(d, p))
                free(p);
}

/* size bytes aligned to align (a power of two: 1 for text, so a three-letter scalar takes
 * four bytes and not sixteen) */
static void *arena(struct yf_doc *d, size_t size, size_t align)
{
        struct yf_chunk *c = d->chunks;
        size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
        if (!c || at > c->size || c->size - at < size) {
                size_t cap = size > YF_CHUNK / 2 ? size : YF_CHUNK;
                c = take(d, sizeof(*c) + cap);
                if (!c)
                        return NULL;
                c->size = cap;
                c->used = 0;
                at = 0;
                /* a large piece gets its own chunk behind the current one */
                if (cap != YF_CHUNK && d->chunks) {
                        c->next = d->chunks->next;
                        d->chunks->next = c;
                } else {
                        c->next = d->chunks;
                        d->chunks = c;
                }
        }
        void *m = (char *)c->data + at;
        c->used = at + size;
        return m;
}

static struct yf_node *yf_node(const struct yf_doc *d, int id)
{
        if (id < 1 || (size_t)id > d->n_nodes)
                return NULL;
        size_t i = (size_t)id - 1;
        return &d->blocks[i / YF_BLOCK][i % YF_BLOCK];
}

/* A zeroed node (ids from 1, in the order made); 0 when out of memory. */
static int alloc_node(struct yf_doc *d)
{
        if (d->n_nodes % YF_BLOCK == 0) {
                if (d->n_blocks == d->cap_blocks) {
                        size_t cap = d->cap_blocks ? 2 * d->cap_blocks : 16;
                        struct yf_node **b = realloc(d->blocks, cap * sizeof(*b));
                        if (!b)
                                return 0;
                        d->blocks = b;
                        d->cap_blocks = cap;
                }
                d->blocks[d->n_blocks] = take(d, YF_BLOCK * sizeof(struct yf_node));
                if (!d->blocks[d->n_blocks])
                        return 0;
                d->n_blocks++;
        }
        size_t i = d->n_nodes++;
        d->blocks[i / YF_BLOCK][i % YF_BLOCK] = (struct yf_node){0};
        return (int)d->n_nodes;
}

static int new_node(struct rd *r, yaml_node_type_t type, size_t at)
{
        int id = alloc_node(r->d);
        if (!id)
                return r->err = -ENOMEM;
        struct yf_node *n = yf_node(r->d, id);
        n->type = (uint8_t)type;
        n->line = (uint32_t)r->line;
        n->col = (uint32_t)(at - r->ls);
        return id;
}

static int push(struct rd *r, int id)
{
        struct yf_doc *d = r->d;
        if (d->n_scratch == d->cap_scratch) {
                size_t cap = d->cap_scratch ? 2 * d->cap_scratch : 256;
                int *s = realloc(d->scratch, cap * sizeof(*s));
                if (!s)
                        return r->err = -ENOMEM;
                d->scratch = s;
                d->cap_scratch = cap;
        }
        d->scratch[d->n_scratch++] = id;
        return id;
}

/* The children pushed since base become the collection's items or keys and values. */
static int close_collection(struct rd *r, int id, size_t base)
{
        struct yf_doc *d = r->d;
        size_t k = d->n_scratch - base;
        struct yf_node *n = yf_node(d, id);
        const struct yf_node **kids = arena(d, (k ? k : 1) * sizeof(*kids), sizeof(*kids));
        if (!kids)
                return r->err = -ENOMEM;
        for (size_t i = 0; i < k; i++)
                kids[i] = yf_node(d, d->scratch[base + i]);
        d->n_scratch = base;
        n->kids = kids;
        n->n = (uint32_t)k;
        return id;
}

static int scalar(struct rd *r, size_t at, const char *s, size_t len,
                  yaml_scalar_style_t style, bool unquote)
{
        int id = new_node(r, YAML_SCALAR_NODE, at);
        if (id < 0)
                return id;
        char *v = arena(r->d, len + 1, 1);
        if (!v)
                return r->err = -ENOMEM;
        size_t o = len;
        if (!unquote) {
                memcpy(v, s, len);
        } else {
                o = 0;
                for (size_t i = 0; i < len; i++) {
                        v[o++] = s[i];
                        if (s[i] == '\'')
                                i++; /* '' is one quote */
                }
        }
        v[o] = '\0';
        struct yf_node *n = yf_node(r->d, id);
        n->str = v;
        n->n = (uint32_t)o;
        n->style = (uint8_t)style;
        return id;
}

/* ---------------------------------------------------------------- characters and lines */

static int at(const struct rd *r, size_t k)
{
        return r->p + k < r->n ? (unsigned char)r->t[r->p + k] : '\n';
}

static bool blank_at(const struct rd *r, size_t k)
{
        int c = at(r, k);
        return c == ' ' || c == '\n';
}

/* characters that may not start a plain scalar here */
static bool indicator(int c)
{
        switch (c) {
        case '-': case '?': case ':': case ',': case '[': case ']': case '{': case '}':
        case '#': case '&': case '*': case '!': case '|': case '>': case '\'': case '"':
        case '%': case '@': case '`':
                return true;
        default:
                return false;
        }
}

/* Past the end of this line (which has nothing more to say). */
static void next_line(struct rd *r)
{
        const char *e = memchr(r->t + r->p, '\n', r->n - r->p);
        r->p = e ? (size_t)(e - r->t) + 1 : r->n;
        r->line++;
        r->ls = r->p;
}

/* At a line's start: skips blank and comment lines; returns the indentation of the next line
 * with content (r->p at its first character), -1 at the end, -2 to decline (a document
 * marker or directive). Asked again at that line, it answers the same. */
static long next_content(struct rd *r)
{
        if (r->p >= r->n)
                return -1;
        if (r->p != r->ls) /* already there: a child stopped at this line */
                return (long)(r->p - r->ls);
        while (r->p < r->n) {
                size_t i = r->p;
                while (i < r->n && r->t[i] == ' ')
                        i++;
                if (i == r->n)
                        break;
                if (r->t[i] == '\n' || r->t[i] == '#') {
                        next_line(r);
                        continue;
                }
                if (i == r->p && (r->t[i] == '%' ||
                                  ((r->n - i >= 3) && (!memcmp(r->t + i, "---", 3) ||
                                                       !memcmp(r->t + i, "...", 3)))))
                        return -2;
                long ind = (long)(i - r->p);
                r->p = i;
                return ind;
        }
        r->p = r->n;
        return -1;
}

/* After a value on this line: only spaces and a comment until the line ends. */
static bool rest_of_line(struct rd *r)
{
        size_t sp = 0;
        while (at(r, 0) == ' ') {
                r->p++;
                sp++;
        }
        if (at(r, 0) == '#' && !sp)
                return false;
        if (at(r, 0) != '\n' && at(r, 0) != '#')
                return false;
        next_line(r);
        return true;
}

/* ---------------------------------------------------------------- scalars */

/* A quoted scalar on one line, without escapes; r->p past the closing quote. */
static int quoted(struct rd *r)
{
        int q = at(r, 0);
        size_t start = r->p, i = r->p + 1;
        bool doubled = false;
        for (;; i++) {
                if (i >= r->n || r->t[i] == '\n' || (q == '"' && r->t[i] == '\\'))
                        return 0;
                if (r->t[i] != q)
                        continue;
                if (q == '\'' && i + 1 < r->n && r->t[i + 1] == '\'') {
                        doubled = true;
                        i++;
                        continue;
                }
                break;
        }
        r->p = i + 1;
        return scalar(r, start, r->t + start + 1, i - start - 1,
                      q == '"' ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE,
                      doubled);
}

/* A plain scalar in block context up to the end of its line or a comment (a value), or up
 * to ':' and a blank (a key: r->p then at the ':'). */
static int plain_block(struct rd *r, bool key)
{
        size_t start = r->p, end = r->p, i = r->p;
        if (indicator(at(r, 0)))
                return 0;
        for (; i < r->n && r->t[i] != '\n'; i++) {
                char c = r->t[i];
                if (c == ':' && (i + 1 == r->n || r->t[i + 1] == ' ' || r->t[i + 1] == '\n')) {
                        if (!key || r->t[i - 1] == ' ')
                                return 0; /* a value with ': ' in it, or `key :` */
                        break;
                }
                if (c == '#' && r->t[i - 1] == ' ')
                        break;
                if (c != ' ')
                        end = i + 1;
        }
        if (key && (i == r->n || r->t[i] != ':'))
                return 0;
        if (key && end - start > YF_KEY_MAX)
                return 0;
        r->p = key ? i : end;
        return scalar(r, start, r->t + start, end - start, YAML_PLAIN_SCALAR_STYLE, false);
}

/* A scalar inside a one-line flow collection; r->p after it. */
static int plain_flow(struct rd *r)
{
        size_t start = r->p, end = r->p, i = r->p;
        if (indicator(at(r, 0)))
                return 0;
        for (; i < r->n; i++) {
                char c = r->t[i];
                if (c == '\n')
                        return 0;
                if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}')
                        break;
                if (c == ':') {
                        int nx = i + 1 < r->n ? r->t[i + 1] : '\n';
                        if (nx == ' ')
                                break;
                        if (nx == '\n' || strchr(",?[]{}", nx))
                                return 0;
                }
                if (c == '?')
                        return 0; /* libyaml ends a flow scalar there */
                if (c == '#' && r->t[i - 1] == ' ')
                        return 0;
                if (c != ' ')
                        end = i + 1;
        }
        r->p = end;
        return scalar(r, start, r->t + start, end - start, YAML_PLAIN_SCALAR_STYLE, false);
}

static int flow(struct rd *r);

/* A value inside a flow collection: a scalar, or a collection nested at most YF_FLOW_DEPTH. */
static int flow_value(struct rd *r)
{
        int c = at(r, 0);
        if (c == '[' || c == '{')
                return r->flow < YF_FLOW_DEPTH ? flow(r) : 0;
        return c == '\'' || c == '"' ? quoted(r) : plain_flow(r);
}

static void spaces(struct rd *r)
{
        while (at(r, 0) == ' ')
                r->p++;
}

/* [a, b] or {k: v, k2: [x, y]}, on this line; keys are scalars. */
static int flow(struct rd *r)
{
        bool map = at(r, 0) == '{';
        int close = map ? '}' : ']';
        int id = new_node(r, map ? YAML_MAPPING_NODE : YAML_SEQUENCE_NODE, r->p);
        if (id < 0)
                return id;
        yf_node(r->d, id)->style = map ? YAML_FLOW_MAPPING_STYLE : YAML_FLOW_SEQUENCE_STYLE;
        size_t base = r->d->n_scratch;
        r->p++;
        r->flow++;
        spaces(r);
        if (at(r, 0) == close) {
                r->p++;
                r->flow--;
                return close_collection(r, id, base);
        }
        for (;;) {
                if (map && (at(r, 0) == '[' || at(r, 0) == '{'))
                        return 0; /* a collection as a key */
                int k = map ? (at(r, 0) == '\'' || at(r, 0) == '"' ? quoted(r) : plain_flow(r))
                        : flow_value(r);
                if (k <= 0 || push(r, k) < 0)
                        return k <= 0 ? k : r->err;
                if (map) {
                        if (at(r, 0) != ':' || at(r, 1) != ' ')
                                return 0;
                        r->p++;
                        spaces(r);
                        int v = flow_value(r);
                        if (v <= 0 || push(r, v) < 0)
                                return v <= 0 ? v : r->err;
                }
                spaces(r);
                if (at(r, 0) == close) {
                        r->p++;
                        r->flow--;
                        return close_collection(r, id, base);
                }
                if (at(r, 0) != ',')
                        return 0;
                r->p++;
                spaces(r);
                if (at(r, 0) == close || at(r, 0) == ',')
                        return 0;
        }
}

/* A value after `key: ` or `- ` on the same line; r->p then at the next line's start. */
static int inline_value(struct rd *r)
{
        int c = at(r, 0), v;
        if (c == '{' || c == '[')
                v = flow(r);
        else if (c == '\'' || c == '"')
                v = quoted(r);
        else
                v = plain_block(r, false);
        if (v <= 0)
                return v;
        return rest_of_line(r) ? v : 0;
}

/* ---------------------------------------------------------------- block collections */

static int block_node(struct rd *r);
static int mapping(struct rd *r, size_t indent);

/* The key at r->p (on the current line) is followed by ':'; true when r->p starts a key. */
static bool looks_like_key(const struct rd *r)
{
        size_t i = r->p;
        int q = at(r, 0);
        if (q == '\'' || q == '"') {
                for (i++; i < r->n && r->t[i] != '\n' && r->t[i] != q; i++)
                        ;
                return i + 1 < r->n && r->t[i] == q && r->t[i + 1] == ':';
        }
        for (; i < r->n && r->t[i] != '\n'; i++) {
                if (r->t[i] == ':' && (i + 1 == r->n || r->t[i + 1] == ' ' || r->t[i + 1] == '\n'))
                        return true;
                if (r->t[i] == '#' && i > r->p && r->t[i - 1] == ' ')
                        return false;
        }
        return false;
}

/* A block collection starting at r->p, one level deeper: its id, 0 past YF_MAX_DEPTH (every
 * block collection counts, also a `key:` then `- ` list), or -ENOMEM. */
static int open_block(struct rd *r, yaml_node_type_t type, int style)
{
        if (++r->depth > YF_MAX_DEPTH)
                return 0;
        int id = new_node(r, type, r->p);
        if (id > 0)
                yf_node(r->d, id)->style = (uint8_t)style;
        return id;
}

/* A block list whose '-' lines are at column indent; r->p at the first '-'. */
static int sequence(struct rd *r, size_t indent)
{
        int id = open_block(r, YAML_SEQUENCE_NODE, YAML_BLOCK_SEQUENCE_STYLE);
        if (id <= 0)
                return id;
        size_t base = r->d->n_scratch;
        for (;;) {
                r->p++; /* the '-' */
                if (at(r, 0) != ' ')
                        return 0;
                spaces(r);
                int c = at(r, 0), v;
                if (c == '\n' || c == '#' || (c == '-' && blank_at(r, 1)))
                        return 0; /* an item on the next lines, or a list in a list */
                if (c != '{' && c != '[' && looks_like_key(r))
                        v = mapping(r, r->p - r->ls);
                else
                        v = inline_value(r);
                if (v <= 0 || push(r, v) < 0)
                        return v <= 0 ? v : r->err;
                long ind = next_content(r);
                if (ind == (long)indent && at(r, 0) == '-' && blank_at(r, 1))
                        continue;
                if (ind == -2 || ind > (long)indent)
                        return 0;
                r->depth--;
                return close_collection(r, id, base);
        }
}

/* A block mapping whose keys are at column indent; r->p at the first key. */
static int mapping(struct rd *r, size_t indent)
{
        int id = open_block(r, YAML_MAPPING_NODE, YAML_BLOCK_MAPPING_STYLE);
        if (id <= 0)
                return id;
        size_t base = r->d->n_scratch;
        for (;;) {
                int q = at(r, 0), k, v;
                k = q == '\'' || q == '"' ? quoted(r) : plain_block(r, true);
                if (k <= 0 || push(r, k) < 0)
                        return k <= 0 ? k : r->err;
                if (at(r, 0) != ':')
                        return 0;
                r->p++;
                size_t sp = r->p;
                spaces(r);
                if (at(r, 0) == '\n' || (at(r, 0) == '#' && r->p > sp)) {
                        next_line(r);
                        long ind = next_content(r);
                        if (ind > (long)indent)
                                v = block_node(r);
                        else if (ind == (long)indent && at(r, 0) == '-' && blank_at(r, 1))
                                v = sequence(r, indent); /* `key:` then `- item` lines */
                        else
                                return 0; /* an empty value */
                } else if (r->p == sp) {
                        return 0;
                } else {
                        v = inline_value(r);
                }
                if (v <= 0 || push(r, v) < 0)
                        return v <= 0 ? v : r->err;
                long ind = next_content(r);
                if (ind == (long)indent && !(at(r, 0) == '-' && blank_at(r, 1)))
                        continue;
                if (ind == -2 || ind >= (long)indent)
                        return 0;
                r->depth--;
                return close_collection(r, id, base);
        }
}

/* A collection that starts its own line, r->p at its first character. */
static int block_node(struct rd *r)
{
        int v;
        size_t col = r->p - r->ls;
        if (at(r, 0) == '-' && blank_at(r, 1))
                v = sequence(r, col);
        else if (at(r, 0) != '{' && at(r, 0) != '[' && looks_like_key(r))
                v = mapping(r, col);
        else
                v = 0;
        return v;
}

/* ---------------------------------------------------------------- the document */

/* Only printable ASCII, spaces and LF: everything else is libyaml's to read. */
static bool plain_text(const char *t, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)t[i];
                if ((c < 0x20 && c != '\n') || c > 0x7e)
                        return false;
        }
        return true;
}

void yf_free(struct yf_doc *d)
{
        for (size_t i = 0; i < d->n_blocks; i++)
                give_back(d, d->blocks[i]);
        free(d->blocks);
        while (d->chunks) {
                struct yf_chunk *c = d->chunks;
                d->chunks = c->next;
                give_back(d, c);
        }
        free(d->scratch);
        if (d->region)
                d->region_ops->put(d->region, d->region_size);
        memset(d, 0, sizeof(*d));
}

/* A region for a document of len bytes: its tree takes about five times the text (24-byte
 * nodes, the scalars, the children), in blocks of 144 KiB and chunks of 128 KiB. */
static void region_get(struct yf_doc *d, size_t len)
{
        size_t got = 0;
        if (!region_ops || len < YF_REGION_MIN || len > SIZE_MAX / 16)
                return;
        d->region = region_ops->get(8 * len + 512 * 1024, &got);
        d->region_size = d->region ? got : 0;
        d->region_ops = region_ops;
        d->region_used = 0;
}

int yf_load(struct yf_doc *d, const char *text, size_t len)
{
        struct rd r = {.d = d, .t = text, .n = len};
        memset(d, 0, sizeof(*d));
        if (!plain_text(text, len))
                return 0;
        region_get(d, len);
        long ind = next_content(&r);
        if (ind == -2 && r.n - r.p >= 3 && !memcmp(r.t + r.p, "---", 3) &&
            (r.n - r.p == 3 || r.t[r.p + 3] == '\n')) {
                next_line(&r); /* an explicit start, alone on its line */
                ind = next_content(&r);
        }
        int root = ind >= 0 ? block_node(&r) : 0;
        if (root > 0 && next_content(&r) != -1)
                root = 0; /* something after the root: libyaml says what */
        if (root <= 0 || r.err) {
                int err = r.err;
                yf_free(d);
                return err ? err : 0;
        }
        d->root = yf_node(d, 1); /* the first node made */
        return 1;
}

/* ---------------------------------------------------------------- libyaml's tree */

static int children_of(const yaml_node_t *y, const int **ids)
{
        if (y->type == YAML_SEQUENCE_NODE) {
                *ids = y->data.sequence.items.start;
                return (int)(y->data.sequence.items.top - y->data.sequence.items.start);
        }
        /* yaml_node_pair_t is two ints: key, value */
        *ids = (const int *)y->data.mapping.pairs.start;
        return 2 * (int)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
}

int yf_from_libyaml(struct yf_doc *d, const yaml_document_t *doc)
{
        size_t count = (size_t)(doc->nodes.top - doc->nodes.start);
        memset(d, 0, sizeof(*d));
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *y = &doc->nodes.start[i];
                int id = alloc_node(d);
                if (!id)
                        goto oom;
                struct yf_node *n = yf_node(d, id);
                n->type = (uint8_t)y->type;
                n->line = (uint32_t)y->start_mark.line;
                n->col = (uint32_t)y->start_mark.column;
                if (y->type == YAML_SCALAR_NODE) {
                        n->style = (uint8_t)y->data.scalar.style;
                        n->str = (const char *)y->data.scalar.value;
                        n->n = (uint32_t)y->data.scalar.length;
                        continue;
                }
                n->style = (uint8_t)(y->type == YAML_SEQUENCE_NODE ? y->data.sequence.style
                                                                   : y->data.mapping.style);
                const int *ids;
                int k = y->type == YAML_NO_NODE ? 0 : children_of(y, &ids);
                const struct yf_node **kids = arena(d, (k ? (size_t)k : 1) * sizeof(*kids),
                                                   sizeof(*kids));
                if (!kids)
                        goto oom;
                /* children come after their parent (libyaml numbers them as it reads), but
                 * may not exist yet: their ids are kept and made pointers below */
                for (int j = 0; j < k; j++)
                        kids[j] = (const struct yf_node *)(uintptr_t)ids[j];
                n->kids = kids;
                n->n = (uint32_t)k;
        }
        for (size_t i = 1; i <= count; i++) {
                struct yf_node *n = yf_node(d, (int)i);
                if (n->type != YAML_SEQUENCE_NODE && n->type != YAML_MAPPING_NODE)
                        continue;
                const struct yf_node **kids = (const struct yf_node **)n->kids;
                for (uint32_t j = 0; j < n->n; j++)
                        kids[j] = yf_node(d, (int)(uintptr_t)kids[j]);
        }
        d->root = count ? yf_node(d, 1) : NULL;
        return 0;
oom:
        yf_free(d);
        return -ENOMEM;
}

/* ---------------------------------------------------------------- held to libyaml */

static bool same_node(const struct yf_node *x, const struct yf_node *y, char *why, size_t size,
                      int depth)
{
        if (!x || !y || depth > YF_MAX_DEPTH + YF_FLOW_DEPTH + 2) {
                snprintf(why, size, "node missing");
                return false;
        }
        if (x->type != y->type || x->line != y->line || x->col != y->col) {
                snprintf(why, size, "node at %u:%u (type %d) is at %u:%u (type %d) in libyaml",
                         x->line + 1, x->col + 1, (int)x->type, y->line + 1, y->col + 1,
                         (int)y->type);
                return false;
        }
        if (x->type == YAML_SCALAR_NODE) {
                if (x->style != y->style || x->n != y->n || memcmp(x->str, y->str, x->n)) {
                        snprintf(why, size, "scalar at %u:%u: '%s' (style %d), libyaml '%s' (style %d)",
                                 x->line + 1, x->col + 1, x->str, (int)x->style, y->str,
                                 (int)y->style);
                        return false;
                }
                return true;
        }
        if (x->type != YAML_SEQUENCE_NODE && x->type != YAML_MAPPING_NODE) {
                snprintf(why, size, "node of no type");
                return false;
        }
        if (x->n != y->n || x->style != y->style) {
                snprintf(why, size, "%s at %u:%u differs in style or length",
                         x->type == YAML_MAPPING_NODE ? "mapping" : "list", x->line + 1,
                         x->col + 1);
                return false;
        }
        for (uint32_t i = 0; i < x->n; i++)
                if (!same_node(x->kids[i], y->kids[i], why, size, depth + 1))
                        return false;
        return true;
}

int yf_check(const struct yf_doc *d, const char *text, size_t len, char *why, size_t size)
{
        yaml_parser_t p;
        yaml_document_t ly;
        struct yf_doc t;
        int r = 0;
        if (!yaml_parser_initialize(&p))
                return -ENOMEM;
        yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
        if (!yaml_parser_load(&p, &ly)) {
                snprintf(why, size, "libyaml refuses it: %s", p.problem ? p.problem : "?");
                yaml_parser_delete(&p);
                return 0;
        }
        if (yf_from_libyaml(&t, &ly) < 0) {
                r = -ENOMEM;
        } else {
                if (!t.root)
                        snprintf(why, size, "libyaml reads no document");
                else
                        r = same_node(d->root, t.root, why, size, 0) ? 1 : 0;
                yf_free(&t);
        }
        yaml_document_delete(&ly);
        yaml_parser_delete(&p);
        return r;
}
