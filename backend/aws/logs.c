/* logs.c - CloudWatch Logs operations (JSON 1.1 protocol, Logs_20140328) and StartLiveTail. */
#include "backend/aws/aws_internal.h"

#include <stdlib.h>
#include <string.h>

#define LOGS_TARGET(op) "Logs_20140328." op

static struct aws_op *logs_op(struct aws_client *c, enum aws_op_kind kind, const char *target,
                              aws_done_fn done, void *user)
{
	struct aws_op *op = aws_op_new(c, kind, AWS_SVC_LOGS, done, user);

	op->method = xstrdup("POST");
	op->path = xstrdup("/");
	op->target = xstrdup(target);
	op->req_json = cJSON_CreateObject();
	return op;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
}

static void add_num(cJSON *o, const char *k, int64_t v)
{
	if (v > 0)
		cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_list(cJSON *o, const char *k, const char *const *v)
{
	cJSON *a;

	if (!v || !v[0])
		return;
	a = cJSON_AddArrayToObject(o, k);
	for (size_t i = 0; v[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

static struct aws_op *logs_start(struct aws_op *op, const char *list_key, bool all_pages)
{
	if (all_pages) {
		op->kind = AWS_OP_PAGED;
		op->list_key = list_key;
		op->token_out = "nextToken";
		op->token_in = "nextToken";
	}
	aws_op_json_body(op);
	return aws_op_start(op);
}

struct aws_op *aws_logs_describe_log_groups(struct aws_client *c,
                                            const struct aws_logs_groups_query *q, aws_done_fn done,
                                            void *user)
{
	struct aws_op *op = logs_op(c, AWS_OP_PLAIN, LOGS_TARGET("DescribeLogGroups"), done, user);
	struct aws_logs_groups_query none = {0};

	if (!q)
		q = &none;
	add_str(op->req_json, "logGroupNamePrefix", q->prefix);
	add_str(op->req_json, "nextToken", q->next_token);
	add_num(op->req_json, "limit", q->limit);
	return logs_start(op, "logGroups", q->all_pages);
}

struct aws_op *aws_logs_describe_log_streams(struct aws_client *c,
                                             const struct aws_logs_streams_query *q,
                                             aws_done_fn done, void *user)
{
	struct aws_op *op = logs_op(c, AWS_OP_PLAIN, LOGS_TARGET("DescribeLogStreams"), done, user);

	if (!q || !q->group || !*q->group)
		return aws_op_fail(op, "InvalidParameter", "a log group name is required");
	add_str(op->req_json, "logGroupName", q->group);
	add_str(op->req_json, "logStreamNamePrefix", q->prefix);
	if (q->order_by_last_event_time)
		cJSON_AddStringToObject(op->req_json, "orderBy", "LastEventTime");
	if (q->descending)
		cJSON_AddTrueToObject(op->req_json, "descending");
	add_str(op->req_json, "nextToken", q->next_token);
	add_num(op->req_json, "limit", q->limit);
	return logs_start(op, NULL, false);
}

struct aws_op *aws_logs_get_log_events(struct aws_client *c, const struct aws_logs_get_query *q,
                                       aws_done_fn done, void *user)
{
	struct aws_op *op = logs_op(c, AWS_OP_PLAIN, LOGS_TARGET("GetLogEvents"), done, user);

	if (!q || !q->group || !*q->group || !q->stream || !*q->stream)
		return aws_op_fail(op, "InvalidParameter",
		                   "a log group and a log stream name are required");
	add_str(op->req_json, "logGroupName", q->group);
	add_str(op->req_json, "logStreamName", q->stream);
	add_num(op->req_json, "startTime", q->start_ms);
	add_num(op->req_json, "endTime", q->end_ms);
	add_str(op->req_json, "nextToken", q->next_token);
	add_num(op->req_json, "limit", q->limit);
	if (q->start_from_head)
		cJSON_AddTrueToObject(op->req_json, "startFromHead");
	return logs_start(op, NULL, false);
}

struct aws_op *aws_logs_filter_log_events(struct aws_client *c,
                                          const struct aws_logs_filter_query *q, aws_done_fn done,
                                          void *user)
{
	struct aws_op *op = logs_op(c, AWS_OP_PLAIN, LOGS_TARGET("FilterLogEvents"), done, user);

	if (!q || !q->group || !*q->group)
		return aws_op_fail(op, "InvalidParameter", "a log group name is required");
	add_str(op->req_json, "logGroupName", q->group);
	add_list(op->req_json, "logStreamNames", q->stream_names);
	add_str(op->req_json, "logStreamNamePrefix", q->stream_prefix);
	add_num(op->req_json, "startTime", q->start_ms);
	add_num(op->req_json, "endTime", q->end_ms);
	add_str(op->req_json, "filterPattern", q->pattern);
	add_str(op->req_json, "nextToken", q->next_token);
	add_num(op->req_json, "limit", q->limit);
	return logs_start(op, "events", q->all_pages);
}

struct aws_op *aws_logs_start_live_tail(struct aws_client *c, const struct aws_live_tail *p,
                                        aws_stream_event_fn on_event, aws_done_fn done, void *user)
{
	struct aws_op *op = logs_op(c, AWS_OP_STREAM, LOGS_TARGET("StartLiveTail"), done, user);
	size_t n = 0;

	while (p && p->log_group_identifiers && p->log_group_identifiers[n])
		n++;
	if (n < 1 || n > 10)
		return aws_op_fail(op, "InvalidParameter",
		                   "StartLiveTail takes 1 to 10 log groups (got %zu)", n);
	op->on_event = on_event;
	add_list(op->req_json, "logGroupIdentifiers", p->log_group_identifiers);
	add_list(op->req_json, "logStreamNames", p->stream_names);
	add_list(op->req_json, "logStreamNamePrefixes", p->stream_prefixes);
	add_str(op->req_json, "logEventFilterPattern", p->pattern);
	/* AWS serves the stream from a prefixed host; custom endpoints get none. */
	{
		const struct aws_config *cfg = aws_client_config(c);
		const char *ep = cfg->endpoint[AWS_SVC_LOGS];

		if (ep && !cfg->custom_endpoint[AWS_SVC_LOGS] && !strncmp(ep, "https://", 8))
			op->base_url = xasprintf("https://stream-%s", ep + 8);
	}
	aws_op_header(op, "Accept", "application/vnd.amazon.eventstream");
	aws_op_json_body(op);
	return aws_op_start(op);
}
