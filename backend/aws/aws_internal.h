/* aws_internal.h - shared between aws.c (client, credentials, request core) and the per-service
 * op files (lambda.c, logs.c, s3.c, tagging.c). Not for use outside backend/aws/. */
#ifndef LAMBDECK_AWS_INTERNAL_H
#define LAMBDECK_AWS_INTERNAL_H

#include "backend/aws/aws.h"
#include "backend/aws/eventstream.h"
#include "backend/http.h"

enum aws_op_kind {
	AWS_OP_PLAIN,  /* one request (with http-level retries) */
	AWS_OP_PAGED,  /* follows a continuation token, concatenating a list */
	AWS_OP_WAIT,   /* polls GetFunctionConfiguration */
	AWS_OP_CREDS,  /* only resolves credentials */
	AWS_OP_STREAM, /* event-stream response */
};

struct aws_op {
	struct aws_client *c;
	struct aws_op *next, *prev; /* client's live ops */
	struct aws_op *wnext;       /* client's ops waiting for credentials */
	enum aws_op_kind kind;
	enum aws_service svc;
	char *method;
	char *path;     /* encoded */
	char *query;    /* encoded, may be NULL */
	char *base_url; /* overrides the service endpoint (S3 virtual host, stream- prefix) */
	char **hdr_names, **hdr_values;
	size_t n_hdrs;
	struct buf body;
	char *body_file;
	char *target; /* X-Amz-Target for JSON ops */
	bool s3;
	bool is_invoke;
	aws_done_fn done;
	void *user;
	aws_progress_fn progress;
	struct http_request *http;
	uv_timer_t timer; /* deferred completion, wait polling; its close callback frees */
	struct aws_result *pending; /* result to deliver from the timer */
	bool waiting_creds;
	bool finished;
	/* paging */
	cJSON *req_json;       /* JSON ops: body template; the token is set into it */
	const char *list_key;  /* "Functions", "logGroups", "events", ... */
	const char *token_out; /* response field with the next token */
	const char *token_in;  /* request field (JSON) or query key (REST) for the token */
	cJSON *acc;            /* accumulated list */
	cJSON *extra_acc;      /* FilterLogEvents: searchedLogStreams */
	char *last_token;
	char *rest_query_base; /* REST paging: query without the token */
	int pages;
	/* wait */
	int64_t deadline_ms;
	long delay_ms;
	int polls;
	/* stream */
	aws_stream_event_fn on_event;
	struct eventstream_decoder *dec;
	struct lk_error stream_err;
	bool stream_failed;
	bool stream_exception;
};

/* Creates an op (not started). */
struct aws_op *aws_op_new(struct aws_client *c, enum aws_op_kind kind, enum aws_service svc,
                          aws_done_fn done, void *user);
/* Adds a request header (copied). */
void aws_op_header(struct aws_op *op, const char *name, const char *value);
/* Starts (or defers until credentials are ready). Returns op. */
struct aws_op *aws_op_start(struct aws_op *op);
/* Fails the op asynchronously with code/message (parameter errors). Returns op. */
struct aws_op *aws_op_fail(struct aws_op *op, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepares a JSON-protocol request from op->req_json (not sent). */
void aws_op_json_body(struct aws_op *op);
/* Appends "key=escaped(value)" to a query buffer with '&' as needed. */
void aws_query_add(struct buf *q, const char *key, const char *value);

#endif
