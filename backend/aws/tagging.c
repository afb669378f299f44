/* tagging.c - Resource Groups Tagging API GetResources (JSON 1.1 protocol). */
#include "backend/aws/aws_internal.h"

#include <stdlib.h>
#include <string.h>

struct aws_op *aws_tagging_get_resources(struct aws_client *c, const struct aws_tagging_query *q,
                                         aws_done_fn done, void *user)
{
	struct aws_op *op = aws_op_new(c, q && q->all_pages ? AWS_OP_PAGED : AWS_OP_PLAIN,
	                               AWS_SVC_TAGGING, done, user);
	cJSON *body = cJSON_CreateObject();

	op->method = xstrdup("POST");
	op->path = xstrdup("/");
	op->target = xstrdup("ResourceGroupsTaggingAPI_20170126.GetResources");
	op->req_json = body;
	if (q && q->n_filters) {
		cJSON *filters = cJSON_AddArrayToObject(body, "TagFilters");

		for (size_t i = 0; i < q->n_filters; i++) {
			cJSON *f = cJSON_CreateObject();

			if (!q->filters[i].key || !*q->filters[i].key) {
				cJSON_Delete(f);
				return aws_op_fail(op, "InvalidParameter",
				                   "tag filter without a key");
			}
			cJSON_AddStringToObject(f, "Key", q->filters[i].key);
			if (q->filters[i].values) {
				cJSON *vals = cJSON_AddArrayToObject(f, "Values");

				for (size_t j = 0; q->filters[i].values[j]; j++)
					cJSON_AddItemToArray(
					    vals, cJSON_CreateString(q->filters[i].values[j]));
			}
			cJSON_AddItemToArray(filters, f);
		}
	}
	if (q && q->resource_types && q->resource_types[0]) {
		cJSON *types = cJSON_AddArrayToObject(body, "ResourceTypeFilters");

		for (size_t i = 0; q->resource_types[i]; i++)
			cJSON_AddItemToArray(types, cJSON_CreateString(q->resource_types[i]));
	}
	if (q && q->pagination_token && *q->pagination_token)
		cJSON_AddStringToObject(body, "PaginationToken", q->pagination_token);
	op->list_key = "ResourceTagMappingList";
	op->token_out = "PaginationToken";
	op->token_in = "PaginationToken";
	aws_op_json_body(op);
	return aws_op_start(op);
}
