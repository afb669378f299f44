/* s3.c - S3 PutObject (artifacts too large for a direct Lambda upload). */
#include "backend/aws/aws_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backend/aws/sigv4.h"

/* Buckets usable as a DNS label in a virtual-hosted URL (no dots: TLS wildcard). */
static bool dns_bucket(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
			return false;
	return b[0] != '-' && b[n - 1] != '-';
}

struct aws_op *aws_s3_put_object(struct aws_client *c, const struct aws_s3_put *p, aws_done_fn done,
                                 void *user)
{
	struct aws_op *op = aws_op_new(c, AWS_OP_PLAIN, AWS_SVC_S3, done, user);
	const struct aws_config *cfg = aws_client_config(c);
	const char *ep = cfg->endpoint[AWS_SVC_S3];
	struct buf path = {0};

	if (!p || !p->bucket || !*p->bucket || !p->key || !*p->key)
		return aws_op_fail(op, "InvalidParameter", "PutObject needs a bucket and a key");
	if (!p->file_path && !p->data && p->data_len)
		return aws_op_fail(op, "InvalidParameter", "PutObject: no data");
	op->method = xstrdup("PUT");
	op->s3 = true;
	if (ep && !cfg->custom_endpoint[AWS_SVC_S3] && dns_bucket(p->bucket) &&
	    !strncmp(ep, "https://", 8)) {
		op->base_url = xasprintf("https://%s.%s", p->bucket, ep + 8);
	} else {
		buf_putc(&path, '/');
		sigv4_uri_encode(p->bucket, strlen(p->bucket), false, &path);
	}
	buf_putc(&path, '/');
	sigv4_uri_encode(p->key, strlen(p->key), true, &path);
	op->path = buf_steal(&path);
	aws_op_header(op, "Content-Type",
	              p->content_type ? p->content_type : "application/octet-stream");
	if (p->file_path) {
		if (!util_is_file(p->file_path))
			return aws_op_fail(op, "InvalidParameter", "%s: not a readable file",
			                   p->file_path);
		op->body_file = xstrdup(p->file_path);
	} else if (p->data_len) {
		buf_append(&op->body, p->data, p->data_len);
	}
	return aws_op_start(op);
}
