/* project_internal.h - shared between project.c (lambdeck.json, handler lookup) and the
 * template readers project_sam.c and project_sls.c. Not for other modules: use project.h. */
#ifndef LAMBDECK_PROJECT_INTERNAL_H
#define LAMBDECK_PROJECT_INTERNAL_H

#include <yaml.h>

#include "backend/project.h"

/* Appends a zeroed function to p (defaults: timeout 3, memory 128, buildable, "Zip"). */
struct project_function *project_add_function(struct project *p, const char *name);
/* Appends "; text" (or text) to f->problem. */
void project_add_problem(struct project_function *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void project_add_note(struct project_function *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void project_add_env(struct project_function *f, const char *name, const char *value,
                     const char *expr);
/* Replaces an existing variable of the same name, else appends; returns it. */
struct project_env *project_set_env(struct project_function *f, const char *name, const char *value,
                                    const char *expr);
void project_add_layer(struct project_function *f, const char *layer);
/* After a reader filled runtime/handler/code_dir: checks the code directory and locates
 * the handler, recording problems on f. */
void project_resolve_function(struct project_function *f);

/* Lexical normalisation of an absolute path (no ".", "..", "//"). Caller frees. */
char *project_normalize_path(const char *path);
/* 1-based line and column (characters) of byte offset off in text. */
void project_offset_to_linecol(const char *text, size_t len, size_t off, int *line, int *col);

/* Name of file for messages: "template.yaml" when dir is ".", else dir/template.yaml. */
char *project_display_path(const char *dir_given, const char *name);

/* Parses a YAML file into doc (first document). On a syntax error returns -1 with err set
 * to "shown:line:col: problem" (code ParseError). An empty file gives a doc with no root. */
int project_yaml_load(const char *path, const char *shown, yaml_document_t *doc,
                      struct lk_error *err);
/* Helpers over a loaded document. All accept NULL nodes. */
yaml_node_t *yaml_map_get(yaml_document_t *doc, yaml_node_t *map, const char *key);
const char *yaml_scalar(yaml_node_t *n);    /* value of an untagged scalar, else NULL */
const char *yaml_tag_short(yaml_node_t *n); /* "!Ref" for local tags, NULL for default tags */
/* One-line rendering of a node with its tags, for unresolved values. Caller frees. */
char *project_yaml_render(yaml_document_t *doc, yaml_node_t *n);

/* The documented stand-in for a CloudFormation value with no local value (caller frees):
 * Ref (attr NULL) gives the logical id for most types, the queue URL for AWS::SQS::Queue, the
 * ARN for topics, state machines and secrets; GetAtt X.Arn an ARN in the service's format
 * with account 123456789012; other attributes "X.Attr". type may be NULL (unknown). */
char *project_standin_value(const char *logical, const char *type, const char *attr,
                            const char *region);

int project_load_sam(struct project *p, const char *path, const char *shown, struct lk_error *err);
int project_load_serverless(struct project *p, const char *path, const char *shown,
                            struct lk_error *err);

#endif
