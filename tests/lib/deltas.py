"""deltas.py - hand-made zip deltas (the format of backend/zipdelta.h) for python tests: valid
ones and hostile ones byte by byte. The real encoder is zipdelta_make (C)."""
import hashlib
import struct

MAGIC = b"LKZDELT1"
OP_COPY = 1
OP_LITERAL = 2


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return (v << 1) if v >= 0 else ((-v) << 1) - 1


def header(base, result, result_size=None):
    return (MAGIC + struct.pack("<Q", len(base)) + hashlib.sha256(base).digest()
            + struct.pack("<Q", len(result) if result_size is None else result_size)
            + hashlib.sha256(result).digest())


def copy(rel, n):
    """COPY n bytes at cursor + rel of the base."""
    return bytes([OP_COPY]) + varint(zigzag(rel)) + varint(n)


def literal(data, n=None):
    return bytes([OP_LITERAL]) + varint(len(data) if n is None else n) + data


def prefix_suffix(old, new):
    """A valid delta old -> new: the common prefix and suffix copied, the middle literal."""
    m = min(len(old), len(new))
    p = 0
    while p < m and old[p] == new[p]:
        p += 1
    q = 0
    while q < m - p and old[-1 - q] == new[-1 - q]:
        q += 1
    d = header(old, new)
    if p:
        d += copy(0, p)
    if len(new) - q > p:
        d += literal(new[p:len(new) - q])
    if q:
        d += copy(len(old) - q - p, q)
    return d
