"""remote_patcher_unit: the lambdeck-zip-patcher helper's applier (backend/remote/zip_patcher)
on valid and hostile deltas: valid ones rebuild the result byte for byte; a wrong base, ranges
past the end, negative offsets, huge literals, truncated ops, results too long/short or with
another SHA-256 are refused with DeltaError and nothing returned. The C side
(unit.zipdelta) checks this applier against zipdelta_make on a real 40 MB zip."""
import hashlib
import os
import struct
import sys
import unittest

SRC = os.environ.get("LAMBDECK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "backend", "remote", "zip_patcher"))
import patcher  # noqa: E402


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return (v << 1) ^ (v >> 63) if v >= 0 else ((-v) << 1) - 1


def header(base, result, result_size=None):
    return (patcher.MAGIC + struct.pack("<Q", len(base)) + hashlib.sha256(base).digest()
            + struct.pack("<Q", len(result) if result_size is None else result_size)
            + hashlib.sha256(result).digest())


def copy(rel, n):
    return bytes([patcher.OP_COPY]) + varint(zigzag(rel)) + varint(n)


def literal(data, n=None):
    return bytes([patcher.OP_LITERAL]) + varint(len(data) if n is None else n) + data


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
