/* libFuzzer target: lambdeck.json as read by project discovery (see fuzz_project.h). */
#define FUZZ_PROJECT_FILE "lambdeck.json"
#include "tests/fuzz/fuzz_project.h"
