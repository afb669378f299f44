/* cmd_doctor.c - 'lambdeck doctor': shows the mode, profile, region, the endpoint of every
 * service and where each came from, where the credentials came from (never the secret), and
 * checks that a cheap call to Lambda and to CloudWatch Logs succeeds. The mode (LOCAL emulator
 * or AWS) is decided by backend/mode exactly as for every other command; in LOCAL mode that
 * attaches to (or starts) the project's emulator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "backend/aws/aws.h"
#include "backend/mode.h"
#include "backend/project.h"
#include "backend/util.h"
#include "cli/commands.h"

struct doctor {
	struct aws_result *creds;
	struct aws_result *check[2];
	uint64_t started_ns, ms[2];
	int pending;
};

static void usage(FILE *out)
{
	fputs("usage: lambdeck doctor [--json] [--no-call]\n"
	      "  Shows mode, profile, region, endpoints and the credentials' source, then checks\n"
	      "  that Lambda ListFunctions and CloudWatch Logs DescribeLogGroups succeed.\n"
	      "  --json     machine-readable output\n"
	      "  --no-call  resolve only, make no network call\n",
	      out);
}

static void on_creds(void *user, struct aws_result *r)
{
	struct doctor *d = user;

	d->creds = r;
	d->pending--;
}

static void on_check0(void *user, struct aws_result *r)
{
	struct doctor *d = user;

	d->check[0] = r;
	d->ms[0] = (util_monotonic_ns() - d->started_ns) / 1000000;
	d->pending--;
}

static void on_check1(void *user, struct aws_result *r)
{
	struct doctor *d = user;

	d->check[1] = r;
	d->ms[1] = (util_monotonic_ns() - d->started_ns) / 1000000;
	d->pending--;
}

/* Prints text made safe for the terminal. */
static const char *safe(const char *s, struct buf *b)
{
	buf_reset(b);
	util_sanitize(s ? s : "", s ? strlen(s) : 0, false, false, b);
	return b->data ? b->data : "";
}

static void fmt_expiry(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Where explicitly passed settings came from: the client only knows "--region" etc., but
 * the mode module passes the emulator's settings (LOCAL) or lambdeck.json's the same way. */
static const struct global_opts *doctor_globals;
static enum mode_kind doctor_kind;

static const char *src(const char *s)
{
	const struct global_opts *g = doctor_globals;

	if (!s || !g)
		return s;
	if (doctor_kind == MODE_LOCAL && s[0] == '-')
		return "LOCAL emulator";
	if (!strcmp(s, "--region") && !g->region)
		return "lambdeck.json";
	if (!strcmp(s, "--profile") && !g->profile)
		return "lambdeck.json";
	return s;
}

static const char *const check_names[2] = {"lambda ListFunctions", "logs DescribeLogGroups"};

static void print_text(const struct aws_config *cfg, const char *mode, struct doctor *d,
                       bool no_call)
{
	struct buf b = {0}, b2 = {0};

	printf("mode:         %s\n", mode);
	printf("profile:      %s (%s)\n", safe(cfg->profile, &b),
	       safe(src(cfg->profile_source), &b2));
	if (cfg->region)
		printf("region:       %s (%s)\n", safe(cfg->region, &b),
		       safe(src(cfg->region_source), &b2));
	else
		printf("region:       not set (use --region, AWS_REGION or a profile's region)\n");
	printf("config file:  %s\n", safe(cfg->config_file, &b));
	printf("credentials:  %s\n", safe(cfg->credentials_file, &b));
	printf("endpoints:\n");
	for (int s = 0; s < AWS_SVC_COUNT; s++)
		printf("  %-8s    %s (%s)\n", aws_service_name(s),
		       cfg->endpoint[s] ? safe(cfg->endpoint[s], &b) : "-",
		       cfg->endpoint_source[s] ? safe(src(cfg->endpoint_source[s]), &b2)
		                               : "no region");
	printf("ca bundle:    %s\n", cfg->ca_bundle ? safe(cfg->ca_bundle, &b) : "system store");
	printf("retries:      %d attempts\n", cfg->max_attempts);
	if (aws_result_ok(d->creds)) {
		printf("access key:   %s from %s", d->creds->creds.access_key_id_hint,
		       safe(d->creds->creds.source, &b));
		if (d->creds->creds.has_session_token)
			printf(", with session token");
		if (d->creds->creds.expiration_ms) {
			char when[40];

			fmt_expiry(d->creds->creds.expiration_ms, when, sizeof(when));
			printf(", expires %s", when);
		}
		printf("\n");
	} else {
		printf("access key:   NONE: %s: %s\n", d->creds->err.code,
		       safe(d->creds->err.message, &b));
	}
	for (int i = 0; i < 2 && !no_call; i++) {
		struct aws_result *r = d->check[i];

		if (!r)
			continue;
		if (aws_result_ok(r))
			printf("check:        %s ok (%llu ms, HTTP %ld)\n", check_names[i],
			       (unsigned long long)d->ms[i], r->status);
		else
			printf("check:        %s FAILED: %s: %s%s%s\n", check_names[i], r->err.code,
			       safe(r->err.message, &b), r->err.request_id[0] ? " request id " : "",
			       r->err.request_id);
	}
	buf_free(&b);
	buf_free(&b2);
}

static void print_json(const struct aws_config *cfg, const char *mode, struct doctor *d)
{
	cJSON *o = cJSON_CreateObject(), *eps = cJSON_CreateObject(), *cr, *checks;
	char *text;

	cJSON_AddStringToObject(o, "mode", mode);
	cJSON_AddStringToObject(o, "profile", cfg->profile);
	cJSON_AddStringToObject(o, "profile_source", src(cfg->profile_source));
	if (cfg->region) {
		cJSON_AddStringToObject(o, "region", cfg->region);
		cJSON_AddStringToObject(o, "region_source", src(cfg->region_source));
	} else {
		cJSON_AddNullToObject(o, "region");
	}
	for (int s = 0; s < AWS_SVC_COUNT; s++) {
		cJSON *e = cJSON_CreateObject();

		if (cfg->endpoint[s]) {
			cJSON_AddStringToObject(e, "url", cfg->endpoint[s]);
			cJSON_AddStringToObject(e, "source", src(cfg->endpoint_source[s]));
		}
		cJSON_AddItemToObject(eps, aws_service_name(s), e);
	}
	cJSON_AddItemToObject(o, "endpoints", eps);
	if (cfg->ca_bundle)
		cJSON_AddStringToObject(o, "ca_bundle", cfg->ca_bundle);
	cr = cJSON_AddObjectToObject(o, "credentials");
	if (aws_result_ok(d->creds)) {
		cJSON_AddStringToObject(cr, "access_key_id", d->creds->creds.access_key_id_hint);
		cJSON_AddStringToObject(cr, "source", d->creds->creds.source);
		cJSON_AddBoolToObject(cr, "session_token", d->creds->creds.has_session_token);
		if (d->creds->creds.expiration_ms)
			cJSON_AddNumberToObject(cr, "expiration_ms",
			                        (double)d->creds->creds.expiration_ms);
	} else {
		cJSON_AddStringToObject(cr, "error", d->creds->err.code);
		cJSON_AddStringToObject(cr, "message", d->creds->err.message);
	}
	checks = cJSON_AddArrayToObject(o, "checks");
	for (int i = 0; i < 2; i++) {
		cJSON *c;

		if (!d->check[i])
			continue;
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "call", check_names[i]);
		cJSON_AddBoolToObject(c, "ok", aws_result_ok(d->check[i]));
		cJSON_AddNumberToObject(c, "ms", (double)d->ms[i]);
		cJSON_AddNumberToObject(c, "status", (double)d->check[i]->status);
		if (!aws_result_ok(d->check[i])) {
			cJSON_AddStringToObject(c, "error", d->check[i]->err.code);
			cJSON_AddStringToObject(c, "message", d->check[i]->err.message);
			cJSON_AddStringToObject(c, "request_id", d->check[i]->err.request_id);
		}
		cJSON_AddItemToArray(checks, c);
	}
	text = util_json_safe(cJSON_Print(o));
	puts(text);
	free(text);
	cJSON_Delete(o);
}

int cmd_doctor(int argc, char **argv, const struct global_opts *g)
{
	bool json = false, no_call = false;
	uv_loop_t loop;
	struct lk_error err = {0};
	struct aws_client *c = NULL;
	struct doctor d = {0};
	struct aws_options o;
	struct project *proj = NULL;
	struct mode_options mo;
	struct mode *m = NULL;
	const struct mode_config *mc;
	char mode[256];
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--no-call")) {
			no_call = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "lambdeck doctor: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	/* A directory without a project is fine: doctor still checks the AWS setup. */
	if (cli_project_load(g, &proj, &err) != 0) {
		proj = NULL;
		lk_error_clear(&err);
	}
	uv_loop_init(&loop);
	cli_mode_options(g, proj, &mo);
	m = mode_new(&loop, &mo, &err);
	mc = m ? mode_acquire_sync(m, &err) : NULL;
	if (!mc) {
		fprintf(stderr, "lambdeck doctor: mode %s: %s: %s\n", m ? mode_describe(m) : "?",
		        err.code, err.message);
		rc = 1;
		goto out;
	}
	snprintf(mode, sizeof(mode), "%s", mc->description ? mc->description : "?");
	doctor_globals = g;
	doctor_kind = mc->kind;
	mode_aws_options(mc, &o);
	o.connect_timeout_ms = 5000;
	o.timeout_ms = 15000;
	c = aws_client_new(&loop, &o, &err);
	if (!c) {
		fprintf(stderr, "lambdeck doctor: %s: %s\n", err.code, err.message);
		rc = 1;
		goto out;
	}
	d.pending = 1;
	aws_client_resolve_credentials(c, on_creds, &d);
	d.started_ns = util_monotonic_ns();
	if (!no_call) {
		d.pending += 2;
		aws_lambda_list_functions(c, NULL, 1, false, on_check0, &d);
		aws_logs_describe_log_groups(c, &(struct aws_logs_groups_query){.limit = 1},
		                             on_check1, &d);
	}
	while (d.pending > 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	if (!d.creds) {
		fprintf(stderr, "lambdeck doctor: internal error: no result\n");
		rc = 1;
	} else {
		if (json)
			print_json(aws_client_config(c), mode, &d);
		else
			print_text(aws_client_config(c), mode, &d, no_call);
		if (!aws_result_ok(d.creds))
			rc = 1;
		for (int i = 0; i < 2; i++)
			if (d.check[i] && !aws_result_ok(d.check[i]))
				rc = 1;
	}
out:
	aws_result_free(d.creds);
	aws_result_free(d.check[0]);
	aws_result_free(d.check[1]);
	aws_client_free(c);
	mode_free(m);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	project_free(proj);
	return rc;
}
