import pytest


@pytest.fixture
def broken_setup():
    raise RuntimeError("database unavailable")


@pytest.fixture
def broken_teardown():
    yield 1
    raise RuntimeError("cleanup failed")


def test_sums():
    assert 1 + 2 == 3


def test_discount():
    assert 200 == 500


@pytest.mark.parametrize("a,b", [(1, 1), (2, 3), ("x/y", "x/y")])
def test_double(a, b):
    assert a * 2 == b * 2


def test_needs_db(broken_setup):
    assert True


def test_cleans_up(broken_teardown):
    assert broken_teardown == 1


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False
