"""make_wheel.py DIR NAME VERSION [VALUE] - writes DIR/NAME-VERSION-py3-none-any.whl, a pure
Python wheel whose module NAME has VALUE = <VALUE> (default 42): a dependency pip installs
with no network."""
import base64
import hashlib
import sys
import zipfile

out, name, ver = sys.argv[1], sys.argv[2], sys.argv[3]
value = sys.argv[4] if len(sys.argv) > 4 else "42"
info = f"{name}-{ver}.dist-info"
files = {
    f"{name}/__init__.py": f"VALUE = {value}\n".encode(),
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n".encode(),
    f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = [
    f"{k},sha256={base64.urlsafe_b64encode(hashlib.sha256(v).digest()).rstrip(b'=').decode()},{len(v)}"
    for k, v in files.items()
]
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
with zipfile.ZipFile(f"{out}/{name}-{ver}-py3-none-any.whl", "w") as z:
    for k, v in files.items():
        z.writestr(k, v)
