import json
import os
import unittest
from unittest import mock

from tests.helpers import load

app = load("orders")


class OrdersTest(unittest.TestCase):
    def test_total_with_tax(self):
        event = {"id": "o-1", "items": [{"price": 2.50, "qty": 2}, {"price": 5}]}
        with mock.patch.dict(os.environ, {"TAX_RATE": "0.20"}):
            res = app.lambda_handler(event, None)
        body = json.loads(res["body"])
        self.assertEqual(body["subtotal"], "10.00")
        self.assertEqual(body["total"], "12.00")

    def test_rejects_empty_order(self):
        with self.assertRaises(ValueError):
            app.lambda_handler({"items": []}, None)


if __name__ == "__main__":
    unittest.main()
