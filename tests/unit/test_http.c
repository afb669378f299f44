/* Unit tests for backend/http: backoff with full jitter, the default retry policy, and a
 * client created and freed on a loop that then closes cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "backend/http.h"

static void test_backoff_bounds(void **state)
{
	long seen_max[6] = {0};

	(void)state;
	for (int i = 0; i < 2000; i++) {
		for (int retry = 1; retry <= 5; retry++) {
			long ceiling = 100L << (retry - 1);
			long d = http_backoff_ms(retry, 100, 20000);

			assert_true(d >= 0 && d <= ceiling);
			if (d > seen_max[retry])
				seen_max[retry] = d;
		}
		/* capped */
		assert_true(http_backoff_ms(30, 100, 1500) <= 1500);
	}
	/* Full jitter spreads over the whole range: with 2000 draws the maximum gets close. */
	for (int retry = 1; retry <= 5; retry++)
		assert_true(seen_max[retry] > (100L << (retry - 1)) * 9 / 10);
	assert_int_equal(http_backoff_ms(1, 0, 100), 0);
}

static void test_default_retryable(void **state)
{
	struct http_response r = {0};
	struct lk_error net = {0};

	(void)state;
	r.status = 429;
	assert_int_equal(http_default_retryable(NULL, &r, NULL), HTTP_RETRY_THROTTLED);
	r.status = 500;
	assert_int_not_equal(http_default_retryable(NULL, &r, NULL), HTTP_NO_RETRY);
	r.status = 503;
	assert_int_not_equal(http_default_retryable(NULL, &r, NULL), HTTP_NO_RETRY);
	r.status = 400;
	assert_int_equal(http_default_retryable(NULL, &r, NULL), HTTP_NO_RETRY);
	r.status = 404;
	assert_int_equal(http_default_retryable(NULL, &r, NULL), HTTP_NO_RETRY);
	r.status = 200;
	assert_int_equal(http_default_retryable(NULL, &r, NULL), HTTP_NO_RETRY);
	r.status = 0;
	lk_error_set(&net, "Timeout", "t");
	assert_int_not_equal(http_default_retryable(NULL, &r, &net), HTTP_NO_RETRY);
	lk_error_set(&net, "ConnectionRefused", "t");
	assert_int_not_equal(http_default_retryable(NULL, &r, &net), HTTP_NO_RETRY);
	lk_error_set(&net, "TLSError", "bad certificate");
	assert_int_equal(http_default_retryable(NULL, &r, &net), HTTP_NO_RETRY);
}

static int done_calls;

static void on_done(void *ud, struct http_response *r, const struct lk_error *err)
{
	(void)ud;
	(void)r;
	(void)err;
	done_calls++;
}

static void test_bad_url_and_shutdown(void **state)
{
	uv_loop_t loop;
	struct lk_error err = {0};
	struct http_client *c;
	struct http_request_opts o = {.method = "GET", .url = "nota://url", .max_attempts = 1};
	struct http_request *pending;

	(void)state;
	uv_loop_init(&loop);
	c = http_client_new(&loop, &err);
	assert_non_null(c);
	/* Failure is reported through done, later, never from inside http_send. */
	done_calls = 0;
	assert_non_null(http_send(c, &o, on_done));
	assert_int_equal(done_calls, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(done_calls, 1);
	/* A cancelled request never calls back. */
	pending = http_send(c, &o, on_done);
	http_cancel(pending);
	http_cancel(NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(done_calls, 1);
	/* Freeing the client with a request outstanding: no callback, loop closes. */
	http_send(c,
	          &(struct http_request_opts){
	              .method = "GET", .url = "http://127.0.0.1:9/", .connect_timeout_ms = 5000},
	          on_done);
	http_client_free(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(done_calls, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static struct http_client *to_free;

static void free_in_done(void *ud, struct http_response *r, const struct lk_error *err)
{
	(void)ud;
	(void)r;
	(void)err;
	done_calls++;
	http_client_free(to_free);
	http_client_free(to_free); /* a second call while the first is pending is ignored */
}

/* Freeing the client from inside a done callback, with other requests outstanding. */
static void test_free_from_callback(void **state)
{
	uv_loop_t loop;
	struct lk_error err = {0};

	(void)state;
	uv_loop_init(&loop);
	to_free = http_client_new(&loop, &err);
	done_calls = 0;
	http_send(to_free, &(struct http_request_opts){.method = "GET", .url = "bad://x"},
	          free_in_done);
	http_send(to_free, &(struct http_request_opts){.method = "GET", .url = "bad://y"},
	          free_in_done);
	http_send(to_free,
	          &(struct http_request_opts){.method = "GET", .url = "http://127.0.0.1:9/"},
	          free_in_done);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(done_calls, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_bounds),
	    cmocka_unit_test(test_default_retryable),
	    cmocka_unit_test(test_bad_url_and_shutdown),
	    cmocka_unit_test(test_free_from_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
