/* Unit tests for backend/fnstatus: the build and deploy states from what the build status
 * and the deploy record say (the Functions pane's badges and `functions --status`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "backend/fnstatus.h"

static void test_build(void **state)
{
	struct fn_status s = {0};

	(void)state;
	assert_int_equal(fnstatus_build(&s), FNSTATUS_NOT_BUILDABLE);
	s.buildable = true;
	assert_int_equal(fnstatus_build(&s), FNSTATUS_NOT_BUILT);
	s.built = true;
	assert_int_equal(fnstatus_build(&s), FNSTATUS_BUILT);
	s.modified = true;
	assert_int_equal(fnstatus_build(&s), FNSTATUS_MODIFIED);
	assert_string_equal(fnstatus_build_name(FNSTATUS_MODIFIED), "modified");
	assert_string_equal(fnstatus_build_name(FNSTATUS_NOT_BUILDABLE), "not buildable");
}

static void test_deploy(void **state)
{
	struct fn_status s = {.buildable = true, .built = true};

	(void)state;
	strcpy(s.code_sha256, "abc=");
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_NEVER);
	s.deploy = -1; /* unreadable record */
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_FAILED);
	s.deploy = 1;
	s.ds.ok = false;
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_FAILED);
	s.ds.ok = true;
	strcpy(s.ds.code_sha256, "abc=");
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_CURRENT);
	s.modified = true;
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_BEHIND);
	s.modified = false;
	strcpy(s.ds.code_sha256, "old=");
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_BEHIND);
	s.ds.code_sha256[0] = '\0'; /* deployed, no hash recorded */
	assert_int_equal(fnstatus_deploy(&s), FNSTATUS_BEHIND);
	assert_string_equal(fnstatus_deploy_name(FNSTATUS_CURRENT), "current");
	fnstatus_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_deploy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
