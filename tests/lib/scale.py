"""scale.py - wait limits for python tests that hold on a sanitizer build and a loaded machine.

    from scale import scaled
    deadline = time.time() + scaled(40)

ctest exports LAMBDECK_TEST_SCALE (2 in a sanitizer build, else 1; cmake/tests.cmake)."""
import os


def scaled(seconds):
    """seconds times LAMBDECK_TEST_SCALE."""
    try:
        k = float(os.environ.get("LAMBDECK_TEST_SCALE", "1"))
    except ValueError:
        k = 1.0
    return seconds * max(k, 1.0)
