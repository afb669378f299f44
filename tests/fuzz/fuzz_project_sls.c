/* libFuzzer target: serverless.yml as read by project discovery (see fuzz_project.h). */
#define FUZZ_PROJECT_FILE "serverless.yml"
#include "tests/fuzz/fuzz_project.h"
