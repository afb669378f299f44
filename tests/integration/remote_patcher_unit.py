"""remote_patcher_unit: the lambdeck-zip-patcher helper's applier (backend/remote/zip_patcher)
on valid and hostile deltas: valid ones rebuild the result byte for byte; a wrong base, ranges
past the end, negative offsets, huge literals, truncated ops, results too long/short or with
another SHA-256 are refused with DeltaError and nothing returned. The C side
(unit.zipdelta) checks this applier against zipdelta_make on a real 40 MB zip.

Then the Lambda handler against a real S3 peer (s3rver from npm, installed by this test into
lambdeck's npm cache as the emulator's "s3" service does): inline and object deltas write the
new object byte for byte and return its CodeSha256; a changed base, a hostile delta or a
missing base object raise, write nothing and leave the old object as it was."""
import base64
import hashlib
import io
import os
import sys
import unittest
import zipfile

SRC = os.environ.get("LAMBDECK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "backend", "remote", "zip_patcher"))
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import patcher  # noqa: E402
from s3rver import S3rver  # noqa: E402
from deltas import copy, header, literal, prefix_suffix  # noqa: E402


BASE = bytes((i * 7919 + 13) % 251 for i in range(1000))
RESULT = BASE[100:400] + b"new bytes" + BASE[0:50]


class ApplyTest(unittest.TestCase):
    def refused(self, delta, what, base=BASE):
        with self.assertRaises(patcher.DeltaError) as cm:
            patcher.apply_delta(base, delta)
        self.assertIn(what, str(cm.exception))

    def test_valid(self):
        # COPY 100..400, LITERAL, COPY back to 0 (negative relative offset from the cursor)
        d = header(BASE, RESULT) + copy(100, 300) + literal(b"new bytes") + copy(-400, 50)
        self.assertEqual(patcher.apply_delta(BASE, d), RESULT)
        self.assertEqual(patcher.apply_delta(b"", header(b"", b"")), b"")

    def test_wrong_base(self):
        d = header(BASE, RESULT) + copy(100, 300) + literal(b"new bytes") + copy(-400, 50)
        self.refused(d, "not the one", base=BASE[:-1])
        self.refused(d, "not the one", base=bytes([BASE[0] ^ 1]) + BASE[1:])

    def test_ranges(self):
        r600 = BASE[:600]
        self.refused(header(BASE, r600) + copy(1000, 600), "past the end")
        self.refused(header(BASE, r600) + copy(0, 1001), "past the end")
        self.refused(header(BASE, r600) + copy(0, 0), "past the end")
        self.refused(header(BASE, r600) + copy(-1, 5), "outside the base")
        self.refused(header(BASE, r600) + copy(0, 300) + copy(-301, 300), "outside the base")
        self.refused(header(BASE, r600) + bytes([1]) + b"\xff" * 9 + b"\x01\x05",
                     "outside the base")
        self.refused(header(BASE, r600) + bytes([1]) + b"\xff" * 10 + b"\x05",
                     "above 64 bits")

    def test_sizes_and_hash(self):
        r600 = BASE[:600]
        self.refused(header(BASE, r600) + literal(b"abc", 1 << 28), "longer than the delta")
        self.refused(header(BASE, r600) + copy(0, 600) + literal(b"z"), "result longer")
        self.refused(header(BASE, r600) + copy(0, 599), "expected 600")
        self.refused(header(BASE, r600) + copy(1, 600), "SHA-256 differs")
        self.refused(header(BASE, r600) + copy(0, 300) + copy(-300, 300), "SHA-256 differs")
        self.refused(header(BASE, r600, patcher.MAX_SIZE + 1), "sizes above")
        self.refused(header(BASE, r600) + b"\x01\x00", "truncated")
        self.refused(header(BASE, r600) + b"\x07", "unknown op")
        self.refused(b"LKZDELT", "not a lambdeck zip delta")

    def test_handler_checks_event_before_touching_s3(self):
        for event in ({}, {"bucket": "b", "base_key": "k"},
                      {"bucket": "b", "base_key": "k", "key": "n"},
                      {"bucket": "b", "base_key": "k", "key": "n", "delta": "!!"}):
            with self.assertRaises(patcher.DeltaError):
                patcher.handler(event, None, s3=object())


def make_zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(name, data)
    return out.getvalue()


class S3HandlerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = S3rver(buckets=["artifacts"])
        os.environ.update(AWS_ENDPOINT_URL_S3=cls.server.endpoint, AWS_ACCESS_KEY_ID="S3RVER",
                          AWS_SECRET_ACCESS_KEY="S3RVER", AWS_DEFAULT_REGION="us-east-1")
        cls.s3 = patcher._s3_client()  # the helper's own client, from AWS_ENDPOINT_URL_S3

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        files = [("lib/%03d.js" % i, os.urandom(3000)) for i in range(40)]
        self.old = make_zip(files)
        files[17] = ("lib/017.js", b"exports.v = 2;\n")
        self.new = make_zip(files)
        self.s3.put_object(Bucket="artifacts", Key="fn/old.zip", Body=self.old)
        for key in ("fn/new.zip", "fn/new2.zip"):
            self.s3.delete_object(Bucket="artifacts", Key=key)

    def delta(self):
        return prefix_suffix(self.old, self.new)

    def get(self, key):
        return self.s3.get_object(Bucket="artifacts", Key=key)["Body"].read()

    def absent(self, key):
        with self.assertRaises(Exception) as cm:
            self.get(key)
        self.assertIn("NoSuchKey", str(cm.exception))

    def test_inline_and_object_deltas(self):
        d = self.delta()
        r = patcher.handler({"bucket": "artifacts", "base_key": "fn/old.zip", "key": "fn/new.zip",
                             "delta": base64.b64encode(d).decode()})
        self.assertEqual(self.get("fn/new.zip"), self.new)
        self.assertEqual(r, {"key": "fn/new.zip", "size": len(self.new),
                             "sha256": base64.b64encode(hashlib.sha256(self.new).digest()).decode()})
        self.s3.put_object(Bucket="artifacts", Key="fn/delta", Body=d)
        patcher.handler({"bucket": "artifacts", "base_key": "fn/old.zip", "key": "fn/new2.zip",
                         "delta_key": "fn/delta"})
        self.assertEqual(self.get("fn/new2.zip"), self.new)
        self.assertEqual(self.get("fn/old.zip"), self.old)

    def test_refusals_leave_everything_untouched(self):
        good = self.delta()
        hostile = [header(self.old, self.new) + copy(len(self.old), 10),
                   header(self.old, self.new) + literal(b"x", 1 << 30),
                   header(self.old, self.new) + copy(0, len(self.new)),
                   good[:-1]]
        for d in hostile:
            for key in ("fn/new.zip", "fn/old.zip"):
                with self.assertRaises(patcher.DeltaError):
                    patcher.handler({"bucket": "artifacts", "base_key": "fn/old.zip", "key": key,
                                     "delta": base64.b64encode(d).decode()})
                self.absent("fn/new.zip")
                self.assertEqual(self.get("fn/old.zip"), self.old)
        # the base changed since the delta was made
        self.s3.put_object(Bucket="artifacts", Key="fn/old.zip", Body=b"Q" + self.old[1:])
        with self.assertRaises(patcher.DeltaError) as cm:
            patcher.handler({"bucket": "artifacts", "base_key": "fn/old.zip", "key": "fn/new.zip",
                             "delta": base64.b64encode(good).decode()})
        self.assertIn("not the one", str(cm.exception))
        self.absent("fn/new.zip")
        # the base is gone
        with self.assertRaises(Exception) as cm:
            patcher.handler({"bucket": "artifacts", "base_key": "fn/gone.zip", "key": "fn/new.zip",
                             "delta": base64.b64encode(good).decode()})
        self.assertIn("NoSuchKey", str(cm.exception))
        self.absent("fn/new.zip")


if __name__ == "__main__":
    unittest.main(verbosity=2)
