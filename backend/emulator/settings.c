/* settings.c - function settings kept and returned as AWS does (Architectures, LoggingConfig,
 * EphemeralStorage, TracingConfig, VpcConfig, DeadLetterConfig, SnapStart), and the smaller
 * Lambda operations tools call around a function: tags, reserved concurrency, the resource
 * policy, account settings, code signing, function URL config, event source mappings, and
 * the signed Code.Location download. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/emulator/emu_internal.h"
#include "backend/emulator/emu_parse.h"

#define CODE_URL_PREFIX  "/lambdeck/code/"
#define CODE_URL_SECONDS 600 /* AWS: "The presigned URL is valid for 10 minutes" */

static int bad(struct lk_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct lk_error *err, const char *fmt, ...)
{
	va_list ap;

	lk_error_clear(err);
	snprintf(err->code, sizeof(err->code), "InvalidParameterValueException");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->status = 400;
	return -1;
}

static bool is_one_of(const cJSON *v, const char *const *ok)
{
	if (!cJSON_IsString(v))
		return false;
	for (; *ok; ok++)
		if (!strcmp(*ok, v->valuestring))
			return true;
	return false;
}

static bool strings(const cJSON *a)
{
	const cJSON *e;

	if (a && !cJSON_IsArray(a))
		return false;
	cJSON_ArrayForEach(e, a) if (!cJSON_IsString(e)) return false;
	return true;
}

int settings_check(const cJSON *req, struct lk_error *err)
{
	static const char *const archs[] = {"x86_64", "arm64", NULL};
	static const char *const formats[] = {"Text", "JSON", NULL};
	static const char *const levels[] = {"TRACE", "DEBUG", "INFO", "WARN",
	                                     "ERROR", "FATAL", NULL};
	static const char *const modes[] = {"Active", "PassThrough", NULL};
	static const char *const apply[] = {"None", "PublishedVersions", NULL};
	const cJSON *v, *m;

	if ((v = cJSON_GetObjectItemCaseSensitive(req, "Architectures")) &&
	    (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 1 ||
	     !is_one_of(cJSON_GetArrayItem(v, 0), archs)))
		return bad(err, "Architectures must be one of [x86_64] or [arm64]");
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "LoggingConfig"))) {
		if (!cJSON_IsObject(v))
			return bad(err, "LoggingConfig must be an object");
		if ((m = cJSON_GetObjectItemCaseSensitive(v, "LogFormat")) &&
		    !is_one_of(m, formats))
			return bad(err, "LoggingConfig.LogFormat must be Text or JSON");
		if ((m = cJSON_GetObjectItemCaseSensitive(v, "ApplicationLogLevel")) &&
		    !is_one_of(m, levels))
			return bad(err,
			           "LoggingConfig.ApplicationLogLevel must be one of TRACE, DEBUG, "
			           "INFO, WARN, ERROR, FATAL");
		if ((m = cJSON_GetObjectItemCaseSensitive(v, "SystemLogLevel")) &&
		    !is_one_of(m, (const char *const[]){"DEBUG", "INFO", "WARN", NULL}))
			return bad(err, "LoggingConfig.SystemLogLevel must be DEBUG, INFO or WARN");
		if ((m = cJSON_GetObjectItemCaseSensitive(v, "LogGroup")) &&
		    (!cJSON_IsString(m) || !*m->valuestring || strlen(m->valuestring) > 512))
			return bad(err, "LoggingConfig.LogGroup must be 1-512 characters");
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "EphemeralStorage")) &&
	    (!cJSON_IsNumber(m = cJSON_GetObjectItemCaseSensitive(v, "Size")) ||
	     m->valuedouble < 512 || m->valuedouble > 10240))
		return bad(err, "EphemeralStorage.Size must be between 512 and 10240 MB");
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "TracingConfig")) &&
	    (m = cJSON_GetObjectItemCaseSensitive(v, "Mode")) && !is_one_of(m, modes))
		return bad(err, "TracingConfig.Mode must be Active or PassThrough");
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "VpcConfig")) &&
	    (!cJSON_IsObject(v) || !strings(cJSON_GetObjectItemCaseSensitive(v, "SubnetIds")) ||
	     !strings(cJSON_GetObjectItemCaseSensitive(v, "SecurityGroupIds"))))
		return bad(err,
		           "VpcConfig.SubnetIds and SecurityGroupIds must be lists of strings");
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "DeadLetterConfig")) &&
	    (!cJSON_IsObject(v) ||
	     ((m = cJSON_GetObjectItemCaseSensitive(v, "TargetArn")) && !cJSON_IsString(m))))
		return bad(err, "DeadLetterConfig.TargetArn must be a string");
	if ((v = cJSON_GetObjectItemCaseSensitive(req, "SnapStart")) &&
	    (m = cJSON_GetObjectItemCaseSensitive(v, "ApplyOn")) && !is_one_of(m, apply))
		return bad(err, "SnapStart.ApplyOn must be None or PublishedVersions");
	return 0;
}

/* Merges the members of req's object `key` into f->settings[key] (a PUT of the whole object
 * in AWS: members not sent fall back to their defaults, which settings_to_json fills). */
static void keep(struct function *f, const cJSON *req, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	if (!v)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(f->settings, key);
	cJSON_AddItemToObject(f->settings, key, cJSON_Duplicate(v, 1));
}

void settings_apply(struct function *f, const cJSON *req, bool creating)
{
	static const char *const keys[] = {"Architectures", "LoggingConfig",    "EphemeralStorage",
	                                   "TracingConfig", "DeadLetterConfig", "SnapStart"};
	const cJSON *vpc = cJSON_GetObjectItemCaseSensitive(req, "VpcConfig");

	(void)creating;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		keep(f, req, keys[i]);
	if (vpc) {
		cJSON *o = cJSON_CreateObject();
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(vpc, "SubnetIds");
		const cJSON *sg = cJSON_GetObjectItemCaseSensitive(vpc, "SecurityGroupIds");
		const cJSON *v6 = cJSON_GetObjectItemCaseSensitive(vpc, "Ipv6AllowedForDualStack");

		cJSON_AddItemToObject(o, "SubnetIds",
		                      sub ? cJSON_Duplicate(sub, 1) : cJSON_CreateArray());
		cJSON_AddItemToObject(o, "SecurityGroupIds",
		                      sg ? cJSON_Duplicate(sg, 1) : cJSON_CreateArray());
		cJSON_AddBoolToObject(o, "Ipv6AllowedForDualStack", cJSON_IsTrue(v6));
		cJSON_DeleteItemFromObjectCaseSensitive(f->settings, "VpcConfig");
		cJSON_AddItemToObject(f->settings, "VpcConfig", o);
	}
}

static const cJSON *setting(const struct function *f, const char *key, const char *member)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(f->settings, key);

	return member ? cJSON_GetObjectItemCaseSensitive(o, member) : o;
}

static const char *setting_str(const struct function *f, const char *key, const char *member,
                               const char *dflt)
{
	const cJSON *v = setting(f, key, member);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

const char *settings_log_group(const struct function *f, char *buf, size_t n)
{
	const char *g = setting_str(f, "LoggingConfig", "LogGroup", NULL);

	if (g)
		return g;
	snprintf(buf, n, "/aws/lambda/%s", f->name);
	return buf;
}

void settings_to_json(const struct emulator *emu, const struct function *f, cJSON *j)
{
	cJSON *o;
	const cJSON *v;
	char group[128];
	bool snap;

	(void)emu;
	o = cJSON_AddObjectToObject(j, "TracingConfig");
	cJSON_AddStringToObject(o, "Mode", setting_str(f, "TracingConfig", "Mode", "PassThrough"));
	o = cJSON_AddArrayToObject(j, "Architectures");
	v = cJSON_GetArrayItem(setting(f, "Architectures", NULL), 0);
	cJSON_AddItemToArray(o, cJSON_CreateString(cJSON_IsString(v) ? v->valuestring : "x86_64"));
	o = cJSON_AddObjectToObject(j, "EphemeralStorage");
	v = setting(f, "EphemeralStorage", "Size");
	cJSON_AddNumberToObject(o, "Size", cJSON_IsNumber(v) ? v->valuedouble : 512);
	o = cJSON_AddObjectToObject(j, "LoggingConfig");
	cJSON_AddStringToObject(o, "LogFormat",
	                        setting_str(f, "LoggingConfig", "LogFormat", "Text"));
	if (!strcmp(setting_str(f, "LoggingConfig", "LogFormat", "Text"), "JSON")) {
		/* AWS fills the levels in for the JSON format */
		cJSON_AddStringToObject(
		    o, "ApplicationLogLevel",
		    setting_str(f, "LoggingConfig", "ApplicationLogLevel", "INFO"));
		cJSON_AddStringToObject(o, "SystemLogLevel",
		                        setting_str(f, "LoggingConfig", "SystemLogLevel", "INFO"));
	}
	cJSON_AddStringToObject(o, "LogGroup", settings_log_group(f, group, sizeof(group)));
	if ((v = setting(f, "VpcConfig", NULL))) {
		o = cJSON_Duplicate(v, 1);
		cJSON_AddItemToObject(j, "VpcConfig", o);
		cJSON_AddStringToObject(
		    o, "VpcId",
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "SubnetIds"))
		        ? "vpc-local"
		        : "");
	}
	if ((v = setting(f, "DeadLetterConfig", "TargetArn"))) {
		o = cJSON_AddObjectToObject(j, "DeadLetterConfig");
		cJSON_AddStringToObject(o, "TargetArn", v->valuestring);
	}
	o = cJSON_AddObjectToObject(j, "SnapStart");
	snap = !strcmp(setting_str(f, "SnapStart", "ApplyOn", "None"), "PublishedVersions");
	cJSON_AddStringToObject(o, "ApplyOn", snap ? "PublishedVersions" : "None");
	cJSON_AddStringToObject(o, "OptimizationStatus", snap && f->version ? "On" : "Off");
}

/* ---- the signed code URL ---- */

/* hex HMAC-SHA256 of "name\nversion\nexpires" with the emulator's secret */
static void code_signature(const struct emulator *emu, const char *name, const char *version,
                           long long expires, char out[65])
{
	unsigned char mac[32];
	unsigned int len = sizeof(mac);
	char *msg = xasprintf("%s\n%s\n%lld", name, version, expires);

	HMAC(EVP_sha256(), emu->secret_key, (int)strlen(emu->secret_key), (unsigned char *)msg,
	     strlen(msg), mac, &len);
	util_hex(mac, sizeof(mac), out);
	free(msg);
}

char *settings_code_url(const struct emulator *emu, const struct function *f)
{
	long long expires = util_now_ms() / 1000 + CODE_URL_SECONDS;
	char sig[65];

	code_signature(emu, f->name, function_version(f), expires, sig);
	if (f->version)
		return xasprintf("%s" CODE_URL_PREFIX "%s/%s?Expires=%lld&Signature=%s",
		                 emu->endpoint, f->name, f->version, expires, sig);
	return xasprintf("%s" CODE_URL_PREFIX "%s?Expires=%lld&Signature=%s", emu->endpoint,
	                 f->name, expires, sig);
}

struct code_read {
	uv_work_t work;
	struct emu_request *req; /* NULL once the client has gone */
	char *path;
	struct buf data;
	int rc;
};

static void code_read_abort(void *user)
{
	((struct code_read *)user)->req = NULL;
}

static void code_read_work(uv_work_t *w)
{
	struct code_read *c = w->data;
	struct lk_error err = {0};

	c->rc = util_read_file(c->path, &c->data, &err);
}

static void code_read_done(uv_work_t *w, int status)
{
	struct code_read *c = w->data;

	if (c->req) {
		emu_request_on_abort(c->req, NULL, NULL);
		if (status == 0 && c->rc == 0)
			emu_respond(c->req, 200, "application/zip", NULL, c->data.data,
			            c->data.len);
		else
			emu_respond_error(c->req, 404, "ResourceNotFoundException",
			                  "The code of this function is gone");
	}
	buf_free(&c->data);
	free(c->path);
	free(c);
}

bool settings_serve_code(struct emulator *emu, struct emu_request *req)
{
	const char *path = emu_request_path(req), *exp = emu_request_query(req, "Expires");
	const char *sig = emu_request_query(req, "Signature");
	char *name, *version, *slash, want[65];
	long long expires;
	struct function *f, *v;
	struct lk_error err = {0};
	struct code_read *c;

	if (strncmp(path, CODE_URL_PREFIX, strlen(CODE_URL_PREFIX)))
		return false;
	name = xstrdup(path + strlen(CODE_URL_PREFIX));
	slash = strchr(name, '/');
	version = slash ? (*slash = 0, slash + 1) : "$LATEST";
	expires = exp ? strtoll(exp, NULL, 10) : 0;
	code_signature(emu, name, version, expires, want);
	if (!sig || strlen(sig) != 64 || CRYPTO_memcmp(sig, want, 64) ||
	    expires < util_now_ms() / 1000) {
		/* S3's answer to a bad or expired presigned URL */
		static const char denied[] =
		    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
		    "<Message>Request has expired or the signature does not "
		    "match</Message></Error>";

		emu_respond(req, 403, "application/xml", NULL, denied, sizeof(denied) - 1);
		free(name);
		return true;
	}
	f = functions_find(emu, name);
	v = f ? versions_resolve(emu, f, version, false, &err) : NULL;
	if (!v) {
		emu_respond_error(req, 404, "ResourceNotFoundException", "Function not found: %s",
		                  name);
		free(name);
		return true;
	}
	c = xcalloc(1, sizeof(*c));
	c->req = req;
	{
		char *dir = function_dir_path(emu, name);

		c->path = v->version ? xasprintf("%s/versions/%s/code.zip", dir, v->version)
		                     : util_path_join(dir, "code.zip");
		free(dir);
	}
	c->work.data = c;
	free(name);
	emu_request_on_abort(req, code_read_abort, c);
	if (uv_queue_work(emu->loop, &c->work, code_read_work, code_read_done) != 0) {
		emu_request_on_abort(req, NULL, NULL);
		emu_respond_error(req, 500, "ServiceException", "cannot read the code");
		free(c->path);
		free(c);
	}
	return true;
}

/* ---- the smaller operations ---- */

static void saved(struct emulator *emu, struct emu_request *req, struct function *f, int status,
                  cJSON *answer)
{
	struct lk_error err = {0};

	if (versions_save_extra(emu, f, &err) < 0) {
		cJSON_Delete(answer);
		emu_respond_error(req, 500, "ServiceException", "%s", err.message);
	} else if (answer) {
		lambda_api_respond_json(req, status, answer);
	} else {
		emu_respond(req, status, NULL, NULL, NULL, 0);
	}
}

static void op_tag(struct emulator *emu, struct emu_request *req, struct function *f)
{
	cJSON *j = lambda_api_body(req, true), *tags = versions_tags(f);
	const cJSON *t, *e;

	if (!j)
		return;
	t = cJSON_GetObjectItemCaseSensitive(j, "Tags");
	cJSON_ArrayForEach(e, t) if (!cJSON_IsString(e))
	{
		cJSON_Delete(j);
		emu_respond_error(req, 400, "InvalidParameterValueException",
		                  "Tag values must be strings");
		return;
	}
	cJSON_ArrayForEach(e, t)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(tags, e->string);
		cJSON_AddStringToObject(tags, e->string, e->valuestring);
	}
	cJSON_Delete(j);
	saved(emu, req, f, 204, NULL);
}

static void op_untag(struct emulator *emu, struct emu_request *req, struct function *f)
{
	struct emu_kv *kv;
	long n = emu_query_parse(emu_request_raw_query(req), &kv);

	for (long i = 0; i < n; i++)
		if (!strcmp(kv[i].name, "tagKeys"))
			cJSON_DeleteItemFromObjectCaseSensitive(versions_tags(f), kv[i].value);
	emu_kv_free(kv, n > 0 ? (size_t)n : 0);
	saved(emu, req, f, 204, NULL);
}

static void op_put_concurrency(struct emulator *emu, struct emu_request *req, struct function *f)
{
	cJSON *j = lambda_api_body(req, true), *out;
	const cJSON *n;

	if (!j)
		return;
	n = cJSON_GetObjectItemCaseSensitive(j, "ReservedConcurrentExecutions");
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > emu->opt.max_concurrency) {
		cJSON_Delete(j);
		emu_respond_error(req, 400, "InvalidParameterValueException",
		                  "ReservedConcurrentExecutions must be between 0 and %d (the "
		                  "emulator's --max-concurrency)",
		                  emu->opt.max_concurrency);
		return;
	}
	versions_set_reserved(f, n->valueint);
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "ReservedConcurrentExecutions", n->valueint);
	cJSON_Delete(j);
	saved(emu, req, f, 200, out);
}

static void op_account(struct emulator *emu, struct emu_request *req)
{
	cJSON *j = cJSON_CreateObject(), *lim = cJSON_AddObjectToObject(j, "AccountLimit");
	cJSON *use = cJSON_AddObjectToObject(j, "AccountUsage");
	double total = 0, reserved = 0;
	int count = 0;

	for (struct function *f = emu->functions; f; f = f->next) {
		count++;
		total += (double)f->code_size;
		for (struct function *v = f->versions; v; v = v->next)
			total += (double)v->code_size;
		if (versions_reserved(f) > 0)
			reserved += versions_reserved(f);
	}
	cJSON_AddNumberToObject(lim, "TotalCodeSize", 80530636800.0);
	cJSON_AddNumberToObject(lim, "CodeSizeUnzipped", EMU_UNZIPPED_MAX);
	cJSON_AddNumberToObject(lim, "CodeSizeZipped", EMU_ZIP_MAX);
	cJSON_AddNumberToObject(lim, "ConcurrentExecutions", 1000);
	cJSON_AddNumberToObject(lim, "UnreservedConcurrentExecutions", 1000 - reserved);
	cJSON_AddNumberToObject(use, "TotalCodeSize", total);
	cJSON_AddNumberToObject(use, "FunctionCount", count);
	lambda_api_respond_json(req, 200, j);
}

static cJSON *policy_document(struct emulator *emu, struct function *f)
{
	cJSON *doc = cJSON_CreateObject();

	(void)emu;
	cJSON_AddStringToObject(doc, "Version", "2012-10-17");
	cJSON_AddStringToObject(doc, "Id", "default");
	cJSON_AddItemToObject(doc, "Statement", cJSON_Duplicate(versions_policy(f), 1));
	return doc;
}

static void op_get_policy(struct emulator *emu, struct emu_request *req, struct function *f)
{
	cJSON *doc, *j;
	char *s;

	if (cJSON_GetArraySize(versions_policy(f)) == 0) {
		emu_respond_error(req, 404, "ResourceNotFoundException",
		                  "The resource you requested does not exist.");
		return;
	}
	doc = policy_document(emu, f);
	s = cJSON_PrintUnformatted(doc);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "Policy", s);
	cJSON_AddStringToObject(j, "RevisionId", f->revision_id);
	cJSON_free(s);
	cJSON_Delete(doc);
	lambda_api_respond_json(req, 200, j);
}

static void op_add_permission(struct emulator *emu, struct emu_request *req, struct function *f)
{
	cJSON *j = lambda_api_body(req, true), *st, *cond = NULL, *out;
	const cJSON *sid, *action, *principal, *v, *e;
	char *arn, *s;

	if (!j)
		return;
	sid = cJSON_GetObjectItemCaseSensitive(j, "StatementId");
	action = cJSON_GetObjectItemCaseSensitive(j, "Action");
	principal = cJSON_GetObjectItemCaseSensitive(j, "Principal");
	if (!cJSON_IsString(sid) || !cJSON_IsString(action) || !cJSON_IsString(principal)) {
		cJSON_Delete(j);
		emu_respond_error(req, 400, "ValidationException",
		                  "StatementId, Action and Principal are required strings");
		return;
	}
	cJSON_ArrayForEach(e, versions_policy(f))
	{
		v = cJSON_GetObjectItemCaseSensitive(e, "Sid");
		if (cJSON_IsString(v) && !strcmp(v->valuestring, sid->valuestring)) {
			emu_respond_error(
			    req, 409, "ResourceConflictException",
			    "The statement id (%s) provided already exists. Please provide "
			    "a new statement id, or remove the existing statement.",
			    sid->valuestring);
			cJSON_Delete(j);
			return;
		}
	}
	st = cJSON_CreateObject();
	cJSON_AddStringToObject(st, "Sid", sid->valuestring);
	cJSON_AddStringToObject(st, "Effect", "Allow");
	v = cJSON_AddObjectToObject(st, "Principal");
	if (strchr(principal->valuestring, '.'))
		cJSON_AddStringToObject((cJSON *)v, "Service", principal->valuestring);
	else
		cJSON_AddStringToObject((cJSON *)v, "AWS", principal->valuestring);
	cJSON_AddStringToObject(st, "Action", action->valuestring);
	arn = function_arn(emu, f->name);
	cJSON_AddStringToObject(st, "Resource", arn);
	free(arn);
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(j, "SourceArn"))) {
		cond = cJSON_AddObjectToObject(st, "Condition");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(cond, "ArnLike"), "AWS:SourceArn",
		                        v->valuestring);
	}
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(j, "SourceAccount"))) {
		if (!cond)
			cond = cJSON_AddObjectToObject(st, "Condition");
		cJSON_AddStringToObject(cJSON_AddObjectToObject(cond, "StringEquals"),
		                        "AWS:SourceAccount", v->valuestring);
	}
	cJSON_AddItemToArray(versions_policy(f), st);
	s = cJSON_PrintUnformatted(st);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "Statement", s);
	cJSON_free(s);
	cJSON_Delete(j);
	saved(emu, req, f, 201, out);
}

static void op_remove_permission(struct emulator *emu, struct emu_request *req, struct function *f,
                                 const char *sid)
{
	cJSON *pol = versions_policy(f);
	int i = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, pol)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "Sid");

		if (cJSON_IsString(v) && !strcmp(v->valuestring, sid)) {
			cJSON_DeleteItemFromArray(pol, i);
			saved(emu, req, f, 204, NULL);
			return;
		}
		i++;
	}
	emu_respond_error(req, 404, "ResourceNotFoundException",
	                  "Statement %s is not found in resource policy.", sid);
}

void settings_api(struct emulator *emu, struct emu_request *req, int op, struct function *f,
                  const char *param)
{
	cJSON *j;

	switch ((enum emu_lambda_op)op) {
	case EMU_LAMBDA_TAG:
		op_tag(emu, req, f);
		return;
	case EMU_LAMBDA_LIST_TAGS:
		j = cJSON_CreateObject();
		cJSON_AddItemToObject(j, "Tags", cJSON_Duplicate(versions_tags(f), 1));
		lambda_api_respond_json(req, 200, j);
		return;
	case EMU_LAMBDA_UNTAG:
		op_untag(emu, req, f);
		return;
	case EMU_LAMBDA_PUT_CONCURRENCY:
		op_put_concurrency(emu, req, f);
		return;
	case EMU_LAMBDA_GET_CONCURRENCY:
		j = cJSON_CreateObject();
		if (versions_reserved(f) >= 0)
			cJSON_AddNumberToObject(j, "ReservedConcurrentExecutions",
			                        versions_reserved(f));
		lambda_api_respond_json(req, 200, j);
		return;
	case EMU_LAMBDA_DELETE_CONCURRENCY:
		versions_set_reserved(f, -1);
		saved(emu, req, f, 204, NULL);
		return;
	case EMU_LAMBDA_ACCOUNT_SETTINGS:
		op_account(emu, req);
		return;
	case EMU_LAMBDA_GET_CODE_SIGNING:
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "CodeSigningConfigArn", "");
		cJSON_AddStringToObject(j, "FunctionName", f->name);
		lambda_api_respond_json(req, 200, j);
		return;
	case EMU_LAMBDA_GET_URL_CONFIG:
		emu_respond_error(req, 404, "ResourceNotFoundException",
		                  "The resource you requested does not exist.");
		return;
	case EMU_LAMBDA_LIST_EVENT_SOURCES:
		j = cJSON_CreateObject();
		cJSON_AddArrayToObject(j, "EventSourceMappings");
		lambda_api_respond_json(req, 200, j);
		return;
	case EMU_LAMBDA_GET_POLICY:
		op_get_policy(emu, req, f);
		return;
	case EMU_LAMBDA_ADD_PERMISSION:
		op_add_permission(emu, req, f);
		return;
	case EMU_LAMBDA_REMOVE_PERMISSION:
		op_remove_permission(emu, req, f, param);
		return;
	default:
		emu_respond_error(req, 404, "UnknownOperationException", "no such operation");
		return;
	}
}
