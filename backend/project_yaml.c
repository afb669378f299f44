/* project_yaml.c - libyaml document loading with "file:line:col: problem" errors, and small
 * lookup helpers over the loaded document, shared by the SAM and serverless readers. */
#include "backend/project_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int project_yaml_load(const char *path, const char *shown, yaml_document_t *doc,
                      struct lk_error *err)
{
	struct buf b = {0};
	yaml_parser_t parser;
	int rc = 0;

	memset(doc, 0, sizeof(*doc));
	if (util_read_file(path, &b, err) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser)) {
		buf_free(&b);
		return lk_error_set(err, "ParseError", "%s: cannot initialise the YAML parser",
		                    shown);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(b.data ? b.data : ""), b.len);
	if (!yaml_parser_load(&parser, doc)) {
		int line, col, end_line, end_col;
		int ctx_line = (int)parser.context_mark.line + 1;
		const char *problem = parser.problem ? parser.problem : "invalid YAML";

		project_offset_to_linecol(b.data, b.len, b.len, &end_line, &end_col);
		if (parser.error == YAML_READER_ERROR) {
			/* Reader errors (bad encoding, control characters) carry a byte offset. */
			project_offset_to_linecol(b.data, b.len, parser.problem_offset, &line,
			                          &col);
		} else {
			line = (int)parser.problem_mark.line + 1;
			col = (int)parser.problem_mark.column + 1;
			/* At the end of a file without a final newline libyaml reports the
			 * start of a virtual next line: point at the real end instead. */
			if (line > end_line || (line == end_line && col > end_col)) {
				line = end_line;
				col = end_col;
			}
		}
		if (ctx_line > end_line)
			ctx_line = end_line;
		if (parser.context && parser.error != YAML_READER_ERROR)
			lk_error_set(err, "ParseError", "%s:%d:%d: %s %s (started at line %d)",
			             shown, line, col, problem, parser.context, ctx_line);
		else
			lk_error_set(err, "ParseError", "%s:%d:%d: %s", shown, line, col, problem);
		memset(doc, 0, sizeof(*doc));
		rc = -1;
	}
	yaml_parser_delete(&parser);
	buf_free(&b);
	return rc;
}

static bool plain_null(yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

const char *yaml_tag_short(yaml_node_t *n)
{
	const char *tag = n ? (const char *)n->tag : NULL;

	if (!tag || strncmp(tag, "tag:yaml.org,2002:", 18) == 0)
		return NULL;
	return tag;
}

const char *yaml_scalar(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || yaml_tag_short(n) || plain_null(n))
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *map_get_depth(yaml_document_t *doc, yaml_node_t *map, const char *key,
                                  int depth)
{
	yaml_node_t *found = NULL, *merge = NULL;

	if (!map || map->type != YAML_MAPPING_NODE || depth > 8)
		return NULL;
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		if (!strcmp((const char *)k->data.scalar.value, key))
			found = yaml_document_get_node(doc, pr->value); /* last one wins */
		else if (!strcmp((const char *)k->data.scalar.value, "<<"))
			merge = yaml_document_get_node(doc, pr->value);
	}
	if (found || !merge)
		return found;
	/* YAML merge keys: "<<: *defaults" or "<<: [*a, *b]" (first wins). */
	if (merge->type == YAML_MAPPING_NODE)
		return map_get_depth(doc, merge, key, depth + 1);
	if (merge->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *it = merge->data.sequence.items.start;
		     it < merge->data.sequence.items.top; it++)
			if ((found = map_get_depth(doc, yaml_document_get_node(doc, *it), key,
			                           depth + 1)))
				return found;
	return NULL;
}

yaml_node_t *yaml_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	return map_get_depth(doc, map, key, 0);
}

/* Compact one-line rendering of a node with its tags ("!GetAtt Table.Arn",
 * "{Fn::Join: [-, [a, b]]}"), cut at max bytes, for showing unresolved values. */
static void render(yaml_document_t *doc, yaml_node_t *n, struct buf *b, int depth)
{
	const char *tag = yaml_tag_short(n);

	if (!n)
		return;
	if (b->len > 120 || depth > 6) {
		buf_puts(b, "…");
		return;
	}
	if (tag) {
		buf_puts(b, tag);
		buf_putc(b, ' ');
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		buf_append(b, n->data.scalar.value,
		           n->data.scalar.length > 100 ? 100 : n->data.scalar.length);
		break;
	case YAML_SEQUENCE_NODE:
		buf_putc(b, '[');
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			if (it != n->data.sequence.items.start)
				buf_puts(b, ", ");
			render(doc, yaml_document_get_node(doc, *it), b, depth + 1);
		}
		buf_putc(b, ']');
		break;
	case YAML_MAPPING_NODE:
		buf_putc(b, '{');
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		     pr < n->data.mapping.pairs.top; pr++) {
			if (pr != n->data.mapping.pairs.start)
				buf_puts(b, ", ");
			render(doc, yaml_document_get_node(doc, pr->key), b, depth + 1);
			buf_puts(b, ": ");
			render(doc, yaml_document_get_node(doc, pr->value), b, depth + 1);
		}
		buf_putc(b, '}');
		break;
	default:
		break;
	}
}

char *project_yaml_render(yaml_document_t *doc, yaml_node_t *n)
{
	struct buf b = {0};

	render(doc, n, &b, 0);
	if (b.len > 160) {
		b.len = 160;
		while (b.len > 0 && ((unsigned char)b.data[b.len] & 0xC0) == 0x80)
			b.len--; /* do not cut a UTF-8 sequence */
		b.data[b.len] = '\0';
		buf_puts(&b, "…");
	}
	return buf_steal(&b);
}
