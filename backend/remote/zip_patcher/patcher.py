"""lambdeck-zip-patcher: rebuilds a deployment zip next to the artifact bucket from the
previous object and a delta, so only the changed bytes leave the developer's machine.

Runs as a Lambda function (Python 3, standard library + the boto3 the runtime ships) deployed
by `lambdeck remote setup`. The delta format is the one backend/zipdelta.h documents; this
applier refuses exactly what zipdelta_apply refuses. Nothing is written unless the result's
SHA-256 is the one the delta names, and the old object is never modified.

Event:
  {"bucket": B, "base_key": K0, "key": K1,            # read K0, write K1 (may equal K0)
   "delta": "<base64>" | "delta_key": K2}              # inline, or a small object in B
Result: {"key": K1, "sha256": "<base64, as Lambda's CodeSha256>", "size": N}
Errors are raised (a function error): {"errorType": "DeltaError", "errorMessage": ...}.
"""
import base64
import hashlib
import os
import struct

MAGIC = b"LKZDELT1"
HEADER_SIZE = 88
MAX_SIZE = 256 * 1024 * 1024
OP_COPY = 1
OP_LITERAL = 2


class DeltaError(Exception):
    """A delta that does not apply: refused, nothing written."""


def _varint(d, p):
    """Reads a LEB128 varint at p; returns (value, next position)."""
    v = 0
    shift = 0
    while shift < 64:
        if p >= len(d):
            raise DeltaError("op truncated")
        c = d[p]
        p += 1
        if shift == 63 and c & 0x7E:
            raise DeltaError("varint above 64 bits")
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, p
        shift += 7
    raise DeltaError("varint above 64 bits")


def read_header(delta):
    """Returns (base_size, base_sha256, result_size, result_sha256) of a delta."""
    if len(delta) < HEADER_SIZE or delta[:8] != MAGIC:
        raise DeltaError("not a lambdeck zip delta")
    base_size, = struct.unpack_from("<Q", delta, 8)
    result_size, = struct.unpack_from("<Q", delta, 48)
    if base_size > MAX_SIZE or result_size > MAX_SIZE:
        raise DeltaError("delta sizes above %d bytes" % MAX_SIZE)
    return base_size, bytes(delta[16:48]), result_size, bytes(delta[56:88])


def apply_delta(base, delta):
    """Applies delta to base; returns the result bytes or raises DeltaError."""
    base_size, base_sha, result_size, result_sha = read_header(delta)
    if len(base) != base_size or hashlib.sha256(base).digest() != base_sha:
        raise DeltaError("the old object is not the one the delta was made from")
    out = bytearray()
    p = HEADER_SIZE
    cursor = 0
    n_delta = len(delta)
    while p < n_delta:
        at = p
        op = delta[p]
        p += 1
        room = result_size - len(out)
        if op == OP_COPY:
            z, p = _varint(delta, p)
            n, p = _varint(delta, p)
            rel = (z >> 1) ^ -(z & 1)
            off = cursor + rel
            if off < 0 or rel > len(base):
                raise DeltaError("copy at byte %d: offset outside the base" % at)
            if n == 0 or off > len(base) or n > len(base) - off:
                raise DeltaError("copy at byte %d: range past the end of the base" % at)
            if n > room:
                raise DeltaError("copy at byte %d: result longer than %d bytes" % (at, result_size))
            out += base[off:off + n]
            cursor = off + n
        elif op == OP_LITERAL:
            n, p = _varint(delta, p)
            if n == 0 or n > n_delta - p:
                raise DeltaError("literal at byte %d: longer than the delta" % at)
            if n > room:
                raise DeltaError("literal at byte %d: result longer than %d bytes" % (at, result_size))
            out += delta[p:p + n]
            p += n
        else:
            raise DeltaError("unknown op %d at byte %d" % (op, at))
    if len(out) != result_size:
        raise DeltaError("result is %d bytes, expected %d" % (len(out), result_size))
    if hashlib.sha256(out).digest() != result_sha:
        raise DeltaError("result SHA-256 differs from the expected one")
    return bytes(out)


def _s3_client():
    """The S3 client the runtime provides (boto3; plain botocore where boto3 is absent).
    AWS_ENDPOINT_URL_S3 (unset in AWS) points it at a local S3 when run by the emulator."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or None
    try:
        import boto3
        return boto3.client("s3", endpoint_url=endpoint)
    except ImportError:
        import botocore.session
        return botocore.session.get_session().create_client("s3", endpoint_url=endpoint)


def _read_object(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def handler(event, context=None, s3=None):
    """Lambda entry point: reads the old object, applies the delta, writes the new object."""
    for field in ("bucket", "base_key", "key"):
        if not isinstance(event.get(field), str) or not event[field]:
            raise DeltaError("missing %r" % field)
    if s3 is None:
        s3 = _s3_client()
    bucket = event["bucket"]
    if isinstance(event.get("delta"), str):
        try:
            delta = base64.b64decode(event["delta"], validate=True)
        except ValueError as e:
            raise DeltaError("delta is not base64: %s" % e)
    elif isinstance(event.get("delta_key"), str):
        delta = _read_object(s3, bucket, event["delta_key"])
    else:
        raise DeltaError("missing 'delta' or 'delta_key'")
    base_size, _, _, _ = read_header(delta)
    base = _read_object(s3, bucket, event["base_key"])
    if len(base) != base_size:
        raise DeltaError("the old object is not the one the delta was made from")
    result = apply_delta(base, delta)
    s3.put_object(Bucket=bucket, Key=event["key"], Body=result)
    return {"key": event["key"],
            "sha256": base64.b64encode(hashlib.sha256(result).digest()).decode(),
            "size": len(result)}
