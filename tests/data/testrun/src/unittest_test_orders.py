import unittest


class TestOrders(unittest.TestCase):
    def test_total(self):
        """Totals add up."""
        self.assertEqual(1 + 2, 3)

    def test_refund(self):
        """Refunds the full amount.

        More detail that unittest does not print.
        """
        self.assertEqual(200, 500)

    def test_error(self):
        """Raises on bad input."""
        raise ValueError("boom")

    @unittest.skip("later")
    def test_later(self):
        pass
