/* filter.c - CloudWatch Logs filter patterns: term patterns and JSON patterns (see
 * filter.h for the supported subset). */
#include "backend/emulator/filter.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32 /* parentheses nesting in JSON patterns */

enum term_kind { TERM_AND, TERM_NOT, TERM_OR };

struct term {
	enum term_kind kind;
	char *text;
	size_t len;
};

enum json_op {
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_GT,
	OP_LE,
	OP_GE,
	OP_IS_TRUE,
	OP_IS_FALSE,
	OP_IS_NULL,
	OP_NOT_EXISTS
};

/* One step of a selector: a member name or an array index. */
struct step {
	char *name; /* NULL for an index */
	int index;
};

struct jnode {
	enum { J_AND, J_OR, J_CMP } kind;
	struct jnode *left, *right; /* J_AND / J_OR */
	struct step *steps;         /* J_CMP */
	size_t n_steps;
	enum json_op op;
	bool value_is_number, value_quoted;
	double number;
	char *string;
};

struct filter_pattern {
	bool json;
	struct term *terms;
	size_t n_terms;
	struct jnode *root;
};

static void jnode_free(struct jnode *n)
{
	if (!n)
		return;
	jnode_free(n->left);
	jnode_free(n->right);
	for (size_t i = 0; i < n->n_steps; i++)
		free(n->steps[i].name);
	free(n->steps);
	free(n->string);
	free(n);
}

void filter_free(struct filter_pattern *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_terms; i++)
		free(f->terms[i].text);
	free(f->terms);
	jnode_free(f->root);
	free(f);
}

static int invalid(struct lk_error *err, const char *fmt, const char *part, size_t len)
{
	char tmp[96];
	size_t n = len < sizeof(tmp) - 1 ? len : sizeof(tmp) - 1;
	memcpy(tmp, part, n);
	tmp[n] = 0;
	struct buf clean = {0};
	util_sanitize(tmp, n, false, false, &clean);
	lk_error_set(err, "InvalidParameterException", fmt, clean.len ? clean.data : "");
	buf_free(&clean);
	return -1;
}

/* Reads a "quoted" string starting at *p (on the quote). Returns the unescaped text. */
static char *read_quoted(const char **p, struct lk_error *err)
{
	const char *s = *p + 1;
	struct buf b = {0};
	while (*s && *s != '"') {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		buf_putc(&b, *s++);
	}
	if (*s != '"') {
		buf_free(&b);
		invalid(err, "unterminated quoted string in filter pattern: %s", *p, strlen(*p));
		return NULL;
	}
	*p = s + 1;
	return buf_steal(&b);
}

static int compile_terms(struct filter_pattern *f, const char *p, struct lk_error *err)
{
	size_t cap = 0;
	bool any_or = false, any_plain = false;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *start = p;
		enum term_kind kind = TERM_AND;
		if (*p == '-' && p[1] && !isspace((unsigned char)p[1])) {
			kind = TERM_NOT;
			p++;
		} else if (*p == '?' && p[1] && !isspace((unsigned char)p[1])) {
			kind = TERM_OR;
			p++;
		}
		char *text;
		if (*p == '"') {
			text = read_quoted(&p, err);
			if (!text)
				return -1;
			if (*p && !isspace((unsigned char)*p)) {
				free(text);
				return invalid(err,
				               "unsupported filter pattern term '%s' (text right "
				               "after a closing quote)",
				               start, strcspn(start, " \t"));
			}
		} else {
			const char *e = p;
			while (*e && !isspace((unsigned char)*e))
				e++;
			if (*p == '[' || *p == '{' || *p == '%' ||
			    memchr(p, '"', (size_t)(e - p))) {
				const char *what =
				    *p == '['   ? "unsupported filter pattern: space-delimited "
				                  "patterns ([...]) are not supported: '%s'"
				    : *p == '%' ? "unsupported filter pattern: regular expressions "
				                  "(%%...%%) are not supported: '%s'"
				    : *p == '{'
				        ? "unsupported filter pattern: a JSON pattern must be "
				          "the whole pattern: '%s'"
				        : "unsupported filter pattern term '%s' (stray quote)";
				return invalid(err, what, start, (size_t)(e - start));
			}
			text = xstrndup(p, (size_t)(e - p));
			p = e;
		}
		if (kind == TERM_OR)
			any_or = true;
		else
			any_plain = true;
		if (f->n_terms == cap) {
			cap = cap ? cap * 2 : 4;
			f->terms = xrealloc(f->terms, cap * sizeof(*f->terms));
		}
		f->terms[f->n_terms++] =
		    (struct term){.kind = kind, .text = text, .len = strlen(text)};
	}
	if (any_or && any_plain)
		return invalid(err,
		               "unsupported filter pattern: mixing ?term (OR) with plain or -terms "
		               "is not supported%s",
		               "", 0);
	return 0;
}

/* --- JSON patterns: a small recursive-descent parser --- */

struct jparser {
	const char *p;
	const char *start;
	struct lk_error *err;
	int depth;
};

static void skip_ws(struct jparser *jp)
{
	while (isspace((unsigned char)*jp->p))
		jp->p++;
}

static bool eat(struct jparser *jp, const char *tok)
{
	skip_ws(jp);
	size_t n = strlen(tok);
	if (strncmp(jp->p, tok, n) == 0) {
		jp->p += n;
		return true;
	}
	return false;
}

/* Case-insensitive keyword followed by a non-identifier character. */
static bool eat_word(struct jparser *jp, const char *word)
{
	skip_ws(jp);
	size_t n = strlen(word);
	if (strncasecmp(jp->p, word, n) == 0 && !isalnum((unsigned char)jp->p[n]) &&
	    jp->p[n] != '_') {
		jp->p += n;
		return true;
	}
	return false;
}

static int jfail(struct jparser *jp, const char *what)
{
	size_t n = strcspn(jp->p, "\n");
	char fmt[200];
	snprintf(fmt, sizeof(fmt),
	         "unsupported or invalid JSON filter pattern at column %d: %s "
	         "near '%%s'",
	         (int)(jp->p - jp->start) + 1, what);
	return invalid(jp->err, fmt, *jp->p ? jp->p : "end of pattern", *jp->p ? n : 14);
}

static struct jnode *parse_or(struct jparser *jp);

static int parse_selector(struct jparser *jp, struct jnode *n)
{
	skip_ws(jp);
	if (*jp->p != '$')
		return jfail(jp, "expected a selector starting with $");
	jp->p++;
	size_t cap = 0;
	for (;;) {
		struct step st = {0};
		if (*jp->p == '.') {
			jp->p++;
			const char *s = jp->p;
			while (isalnum((unsigned char)*jp->p) || *jp->p == '_' || *jp->p == '-' ||
			       *jp->p == '@' || *jp->p == ':')
				jp->p++;
			if (jp->p == s)
				return jfail(jp, *jp->p == '*'
				                     ? "wildcard selectors are not supported"
				                     : "expected a member name after '.'");
			st.name = xstrndup(s, (size_t)(jp->p - s));
		} else if (*jp->p == '[') {
			jp->p++;
			if (!isdigit((unsigned char)*jp->p))
				return jfail(jp,
				             "only numeric array indexes like [0] are supported");
			errno = 0;
			long v = strtol(jp->p, (char **)&jp->p, 10);
			if (errno || v > 1000000 || *jp->p != ']')
				return jfail(jp, "invalid array index");
			jp->p++;
			st.index = (int)v;
		} else {
			break;
		}
		if (n->n_steps == cap) {
			cap = cap ? cap * 2 : 4;
			n->steps = xrealloc(n->steps, cap * sizeof(*n->steps));
		}
		n->steps[n->n_steps++] = st;
	}
	if (n->n_steps == 0)
		return jfail(jp, "a selector needs at least one member ($.field)");
	return 0;
}

static int parse_value(struct jparser *jp, struct jnode *n)
{
	skip_ws(jp);
	if (*jp->p == '"') {
		n->string = read_quoted(&jp->p, jp->err);
		if (!n->string)
			return -1;
		n->value_quoted = true;
		return 0;
	}
	const char *s = jp->p;
	while (*jp->p && !isspace((unsigned char)*jp->p) && !strchr("()&|}", *jp->p))
		jp->p++;
	if (jp->p == s)
		return jfail(jp, "expected a value");
	n->string = xstrndup(s, (size_t)(jp->p - s));
	char *end;
	errno = 0;
	double d = strtod(n->string, &end);
	if (*end == 0 && errno == 0 && isfinite(d) &&
	    (isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.')) {
		n->value_is_number = true;
		n->number = d;
	}
	return 0;
}

static struct jnode *parse_cmp(struct jparser *jp)
{
	struct jnode *n = xcalloc(1, sizeof(*n));
	n->kind = J_CMP;
	if (parse_selector(jp, n) != 0)
		goto fail;
	if (eat_word(jp, "IS")) {
		if (eat_word(jp, "TRUE"))
			n->op = OP_IS_TRUE;
		else if (eat_word(jp, "FALSE"))
			n->op = OP_IS_FALSE;
		else if (eat_word(jp, "NULL"))
			n->op = OP_IS_NULL;
		else {
			jfail(jp, "expected TRUE, FALSE or NULL after IS");
			goto fail;
		}
		return n;
	}
	if (eat_word(jp, "NOT")) {
		if (!eat_word(jp, "EXISTS")) {
			jfail(jp, "expected EXISTS after NOT");
			goto fail;
		}
		n->op = OP_NOT_EXISTS;
		return n;
	}
	if (eat(jp, "!="))
		n->op = OP_NE;
	else if (eat(jp, ">="))
		n->op = OP_GE;
	else if (eat(jp, "<="))
		n->op = OP_LE;
	else if (eat(jp, "="))
		n->op = OP_EQ;
	else if (eat(jp, ">"))
		n->op = OP_GT;
	else if (eat(jp, "<"))
		n->op = OP_LT;
	else {
		jfail(jp, "expected a comparison operator (= != < > <= >=, IS, NOT EXISTS)");
		goto fail;
	}
	const char *vstart = jp->p;
	if (parse_value(jp, n) != 0)
		goto fail;
	if (n->op != OP_EQ && n->op != OP_NE && (!n->value_is_number || n->value_quoted)) {
		jp->p = vstart;
		jfail(jp, "< > <= >= compare numbers only");
		goto fail;
	}
	return n;
fail:
	jnode_free(n);
	return NULL;
}

static struct jnode *parse_unary(struct jparser *jp)
{
	if (eat(jp, "(")) {
		if (++jp->depth > MAX_DEPTH) {
			jfail(jp, "parentheses nested too deeply");
			return NULL;
		}
		struct jnode *n = parse_or(jp);
		jp->depth--;
		if (!n)
			return NULL;
		if (!eat(jp, ")")) {
			jfail(jp, "expected ')'");
			jnode_free(n);
			return NULL;
		}
		return n;
	}
	return parse_cmp(jp);
}

static struct jnode *parse_and(struct jparser *jp)
{
	struct jnode *l = parse_unary(jp);
	while (l && eat(jp, "&&")) {
		struct jnode *r = parse_unary(jp);
		if (!r) {
			jnode_free(l);
			return NULL;
		}
		struct jnode *n = xcalloc(1, sizeof(*n));
		*n = (struct jnode){.kind = J_AND, .left = l, .right = r};
		l = n;
	}
	return l;
}

static struct jnode *parse_or(struct jparser *jp)
{
	struct jnode *l = parse_and(jp);
	while (l && eat(jp, "||")) {
		struct jnode *r = parse_and(jp);
		if (!r) {
			jnode_free(l);
			return NULL;
		}
		struct jnode *n = xcalloc(1, sizeof(*n));
		*n = (struct jnode){.kind = J_OR, .left = l, .right = r};
		l = n;
	}
	return l;
}

static int compile_json(struct filter_pattern *f, const char *p, struct lk_error *err)
{
	struct jparser jp = {.p = p + 1, .start = p, .err = err};
	f->json = true;
	f->root = parse_or(&jp);
	if (!f->root)
		return -1;
	if (!eat(&jp, "}"))
		return jfail(&jp, "expected && || or the closing '}'");
	skip_ws(&jp);
	if (*jp.p)
		return jfail(&jp, "text after the closing '}'");
	return 0;
}

struct filter_pattern *filter_compile(const char *pattern, struct lk_error *err)
{
	struct filter_pattern *f = xcalloc(1, sizeof(*f));
	if (!pattern)
		return f;
	const char *p = pattern;
	while (isspace((unsigned char)*p))
		p++;
	if (strlen(p) > 1024) {
		lk_error_set(err, "InvalidParameterException",
		             "filter pattern longer than 1024 characters");
		filter_free(f);
		return NULL;
	}
	int rc = *p == '{' ? compile_json(f, p, err) : compile_terms(f, p, err);
	if (rc != 0) {
		filter_free(f);
		return NULL;
	}
	return f;
}

static bool contains(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return true;
	return memmem(hay, n, needle, m) != NULL;
}

/* '*' matches any run of characters; everything else literally. */
static bool glob(const char *pat, const char *s, size_t n)
{
	const char *star = NULL, *mark = NULL;
	const char *end = s + n;
	while (s < end) {
		if (*pat == '*') {
			star = pat++;
			mark = s;
		} else if (*pat && *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++mark;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == 0;
}

static bool cmp_number(enum json_op op, double a, double b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_GT:
		return a > b;
	case OP_LE:
		return a <= b;
	case OP_GE:
		return a >= b;
	default:
		return false;
	}
}

static bool eval(const struct jnode *n, const cJSON *root)
{
	if (n->kind == J_AND)
		return eval(n->left, root) && eval(n->right, root);
	if (n->kind == J_OR)
		return eval(n->left, root) || eval(n->right, root);
	const cJSON *v = root;
	for (size_t i = 0; v && i < n->n_steps; i++) {
		if (n->steps[i].name)
			v = cJSON_IsObject(v)
			        ? cJSON_GetObjectItemCaseSensitive(v, n->steps[i].name)
			        : NULL;
		else
			v = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, n->steps[i].index) : NULL;
	}
	if (n->op == OP_NOT_EXISTS)
		return v == NULL;
	if (!v)
		return false;
	switch (n->op) {
	case OP_IS_TRUE:
		return cJSON_IsTrue(v);
	case OP_IS_FALSE:
		return cJSON_IsFalse(v);
	case OP_IS_NULL:
		return cJSON_IsNull(v);
	default:
		break;
	}
	if (cJSON_IsNumber(v) && n->value_is_number && !n->value_quoted)
		return cmp_number(n->op, v->valuedouble, n->number);
	if (n->op != OP_EQ && n->op != OP_NE)
		return false;
	bool eq;
	if (cJSON_IsString(v))
		eq = glob(n->string, v->valuestring, strlen(v->valuestring));
	else if (cJSON_IsBool(v) && !n->value_quoted)
		eq = !strcasecmp(n->string, cJSON_IsTrue(v) ? "true" : "false");
	else
		return false; /* objects, arrays, null and type mismatches never compare */
	return n->op == OP_EQ ? eq : !eq;
}

bool filter_match(const struct filter_pattern *f, const char *message, size_t len)
{
	if (!f)
		return true;
	if (f->json) {
		cJSON *root = cJSON_ParseWithLength(message, len);
		if (!cJSON_IsObject(root)) {
			cJSON_Delete(root);
			root = NULL;
			/* Lambda runtimes prefix lines (timestamp, request id, level): try the
			 * text from the first '{' */
			const char *brace = memchr(message, '{', len);
			if (brace && brace != message) {
				root =
				    cJSON_ParseWithLength(brace, len - (size_t)(brace - message));
				if (!cJSON_IsObject(root)) {
					cJSON_Delete(root);
					root = NULL;
				}
			}
		}
		if (!root)
			return false;
		bool r = eval(f->root, root);
		cJSON_Delete(root);
		return r;
	}
	if (f->n_terms == 0)
		return true;
	bool any_or = false, or_hit = false;
	for (size_t i = 0; i < f->n_terms; i++) {
		const struct term *t = &f->terms[i];
		bool hit = contains(message, len, t->text, t->len);
		switch (t->kind) {
		case TERM_AND:
			if (!hit)
				return false;
			break;
		case TERM_NOT:
			if (hit)
				return false;
			break;
		case TERM_OR:
			any_or = true;
			or_hit = or_hit || hit;
			break;
		}
	}
	return !any_or || or_hit;
}
