/* bench_project.c - times project_load() on a directory: bench_project DIR [ITERATIONS].
 * Prints one line: functions, iterations, median/min/p90 in milliseconds. */
#include <stdio.h>
#include <stdlib.h>

#include "backend/project.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 50;
	uint64_t *t;
	size_t fns = 0;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: bench_project DIR [ITERATIONS]\n");
		return 2;
	}
	t = xcalloc((size_t)n, sizeof(*t));
	for (int i = 0; i < n; i++) {
		struct project *p = NULL;
		struct lk_error err;
		uint64_t t0 = util_monotonic_ns();
		if (project_load(argv[1], &p, &err) < 0) {
			fprintf(stderr, "bench_project: %s\n", err.message);
			project_free(p);
			free(t);
			return 1;
		}
		t[i] = util_monotonic_ns() - t0;
		fns = p->n_functions;
		project_free(p);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	printf("functions=%zu iterations=%d median_ms=%.3f min_ms=%.3f p90_ms=%.3f\n", fns, n,
	       t[n / 2] / 1e6, t[0] / 1e6, t[(n * 9) / 10] / 1e6);
	free(t);
	return 0;
}
