import json
import os
import unittest
from unittest import mock

from tests.helpers import load

app = load("hello")


class HelloTest(unittest.TestCase):
    def test_greets_by_name(self):
        with mock.patch.dict(os.environ, {"GREETING": "Hello"}):
            res = app.lambda_handler({"name": "Ada"}, None)
        self.assertEqual(res["statusCode"], 200)
        self.assertEqual(json.loads(res["body"]), {"message": "Hello, Ada!"})

    def test_defaults_to_world(self):
        with mock.patch.dict(os.environ, {"GREETING": "Hi"}):
            res = app.lambda_handler({}, None)
        self.assertEqual(json.loads(res["body"])["message"], "Hi, world!")


if __name__ == "__main__":
    unittest.main()
