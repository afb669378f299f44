/* libFuzzer target: template.yaml as read by project discovery (see fuzz_project.h). */
#define FUZZ_PROJECT_FILE "template.yaml"
#include "tests/fuzz/fuzz_project.h"
