/* foreign.c - requests for AWS services the emulator does not serve (STS, IAM,
 * CloudFormation, S3, DynamoDB ...). Told apart by the SigV4 credential scope's service, the
 * X-Amz-Target or a query-protocol Action, they get an error in the protocol the client
 * speaks (query XML, S3's REST-XML, JSON) saying so, before authentication: the client
 * signed for another service, so the signature check could only say "invalid signature".
 * A request on a Lambda API path signed for another service stays a bad signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emulator/emu_internal.h"
#include "backend/emulator/emu_parse.h"

/* The service of the SigV4 credential scope (header or presigned query) into out, or "". */
static void scope_service(const struct emu_request *req, char *out, size_t n)
{
	const char *auth = emu_request_header(req, "Authorization");
	const char *cred = auth ? strstr(auth, "Credential=") : NULL;
	const char *p, *end;
	int slashes = 0;

	*out = 0;
	if (cred)
		cred += strlen("Credential=");
	else if (!(cred = emu_request_query(req, "X-Amz-Credential")))
		return;
	/* AKID/DATE/REGION/SERVICE/aws4_request */
	for (p = cred; *p && *p != ',' && *p != ' ' && slashes < 3; p++)
		if (*p == '/')
			slashes++;
	if (slashes < 3)
		return;
	end = strchr(p, '/');
	if (!end || (size_t)(end - p) >= n)
		return;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = 0;
}

/* AWS's name of a scope service, for the message. */
static const char *service_title(const char *svc)
{
	static const char *const names[][2] = {
	    {"sts", "AWS STS"},
	    {"iam", "IAM"},
	    {"cloudformation", "CloudFormation"},
	    {"s3", "Amazon S3"},
	    {"dynamodb", "DynamoDB"},
	    {"sqs", "Amazon SQS"},
	    {"sns", "Amazon SNS"},
	    {"secretsmanager", "Secrets Manager"},
	    {"ssm", "Systems Manager"},
	    {"events", "EventBridge"},
	    {"states", "Step Functions"},
	    {"kms", "KMS"},
	    {"monitoring", "CloudWatch metrics"},
	    {"apigateway", "API Gateway"},
	    {"execute-api", "API Gateway"},
	    {"ec2", "EC2"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i][0], svc))
			return names[i][1];
	return svc;
}

/* The Action of a query-protocol request (form body or query string) into out, or "". */
static void query_action(const struct emu_request *req, char *out, size_t n)
{
	const char *ct = emu_request_header(req, "Content-Type");
	const char *a = emu_request_query(req, "Action");
	size_t len;
	const char *body = emu_request_body(req, &len);

	*out = 0;
	if (a) {
		snprintf(out, n, "%s", a);
		return;
	}
	if (ct && strstr(ct, "x-www-form-urlencoded") && len > 7) {
		const char *p = NULL;

		if (!strncmp(body, "Action=", 7))
			p = body + 7;
		else
			for (size_t i = 0; i + 8 <= len; i++)
				if (!memcmp(body + i, "&Action=", 8)) {
					p = body + i + 8;
					break;
				}
		if (p) {
			size_t l = 0;

			while (p + l < body + len && p[l] != '&' && l + 1 < n)
				l++;
			memcpy(out, p, l);
			out[l] = 0;
		}
	}
}

/* Keeps what goes into XML/JSON text to letters, digits and a few marks. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
		            *s))
			*s = '?';
}

bool foreign_service_answer(struct emulator *emu, struct emu_request *req)
{
	const char *target = emu_request_header(req, "X-Amz-Target");
	char svc[64], action[64], msg[512], rid[37], env[64] = "";
	const char *title;

	struct emu_lambda_route r;
	bool ours = emu_lambda_route(emu_request_method(req), emu_request_raw_path(req), &r) == 0 ||
	            r.status != 404;

	emu_lambda_route_free(&r);
	if (ours)
		return false; /* a Lambda API request signed for another service: a bad signature */
	scope_service(req, svc, sizeof(svc));
	query_action(req, action, sizeof(action));
	sanitize(svc);
	sanitize(action);
	if (!*svc && target && strncmp(target, "Logs_20140328.", 14)) {
		/* unsigned JSON-protocol request: the target's prefix names the service */
		snprintf(svc, sizeof(svc), "%.*s", (int)strcspn(target, "."), target);
		sanitize(svc);
	}
	if (!*svc && *action)
		snprintf(svc, sizeof(svc), "a query-protocol service");
	if (!*svc || !strcmp(svc, "lambda") || !strcmp(svc, "logs"))
		return false;
	title = service_title(svc);
	for (size_t i = 0; i < sizeof(env) - 1 && svc[i]; i++, env[i] = 0)
		env[i] =
		    svc[i] == '-' ? '_' : (svc[i] >= 'a' && svc[i] <= 'z' ? svc[i] - 32 : svc[i]);
	snprintf(msg, sizeof(msg),
	         "lambdeck's emulator does not serve %s (%s): it serves only Lambda and CloudWatch "
	         "Logs. Point this client's %s endpoint at a server for it (AWS_ENDPOINT_URL_%s, "
	         "or the SDK's per-service endpoint setting) instead of the emulator.",
	         title, svc, title, env);
	emu_uuid(rid);
	emu_log(emu, "refused a request for %s: not served", svc);
	if (!strcmp(svc, "s3")) {
		struct buf b = {0};
		const char *hdrs[] = {"x-amz-request-id", rid, NULL};

		buf_printf(
		    &b,
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</"
		    "Code><Message>%s</Message><RequestId>%s</RequestId></Error>",
		    msg, rid);
		emu_respond(req, 501, "application/xml", hdrs, b.data, b.len);
		buf_free(&b);
	} else if (*action || (!target && strcmp(emu_request_method(req), "POST") == 0 &&
	                       emu_request_header(req, "Content-Type") &&
	                       strstr(emu_request_header(req, "Content-Type"), "form"))) {
		struct buf b = {0};
		const char *hdrs[] = {"x-amzn-RequestId", rid, NULL};

		buf_printf(&b,
		           "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>"
		           "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>",
		           msg, rid);
		emu_respond(req, 400, "text/xml", hdrs, b.data, b.len);
		buf_free(&b);
	} else {
		emu_respond_error(req, 400, "UnknownOperationException", "%s", msg);
	}
	return true;
}
