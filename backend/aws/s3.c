/* s3.c - S3 PutObject (artifacts too large for a direct Lambda upload) and GetObject (the
 * emulator's S3 code locations). */
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

/* Sets op's URL for bucket/key: virtual-hosted on AWS's own endpoint when the bucket allows,
 * else path-style (custom endpoints: the emulator's S3, s3rver). */
static void s3_object_url(struct aws_client *c, struct aws_op *op, const char *bucket,
                          const char *key)
{
	const struct aws_config *cfg = aws_client_config(c);
	const char *ep = cfg->endpoint[AWS_SVC_S3];
	struct buf path = {0};

	op->s3 = true;
	if (ep && !cfg->custom_endpoint[AWS_SVC_S3] && dns_bucket(bucket) &&
	    !strncmp(ep, "https://", 8)) {
		op->base_url = xasprintf("https://%s.%s", bucket, ep + 8);
	} else {
		buf_putc(&path, '/');
		sigv4_uri_encode(bucket, strlen(bucket), false, &path);
	}
	buf_putc(&path, '/');
	sigv4_uri_encode(key, strlen(key), true, &path);
	op->path = buf_steal(&path);
}

struct aws_op *aws_s3_put_object(struct aws_client *c, const struct aws_s3_put *p, aws_done_fn done,
                                 void *user)
{
	struct aws_op *op = aws_op_new(c, AWS_OP_PLAIN, AWS_SVC_S3, done, user);

	if (!p || !p->bucket || !*p->bucket || !p->key || !*p->key)
		return aws_op_fail(op, "InvalidParameter", "PutObject needs a bucket and a key");
	if (!p->file_path && !p->data && p->data_len)
		return aws_op_fail(op, "InvalidParameter", "PutObject: no data");
	op->method = xstrdup("PUT");
	s3_object_url(c, op, p->bucket, p->key);
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

struct aws_op *aws_s3_get_object(struct aws_client *c, const char *bucket, const char *key,
                                 aws_done_fn done, void *user)
{
	struct aws_op *op = aws_op_new(c, AWS_OP_PLAIN, AWS_SVC_S3, done, user);

	if (!bucket || !*bucket || !key || !*key)
		return aws_op_fail(op, "InvalidParameter", "GetObject needs a bucket and a key");
	op->method = xstrdup("GET");
	s3_object_url(c, op, bucket, key);
	return aws_op_start(op);
}
