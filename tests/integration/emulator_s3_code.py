"""emulator_s3_code: the emulator takes code from S3 locations (issue 20 item 4), as AWS does
for artifacts above the ZipFile limit and as the remote quick deploy needs: CreateFunction with
Code.S3Bucket/S3Key and UpdateFunctionCode with S3Bucket/S3Key read the object with GetObject
from the S3 endpoint in the emulator's environment (AWS_ENDPOINT_URL_S3; here a real s3rver),
the CodeSha256 is the object's and the function runs its code. A missing object fails the
update with S3's error code while the old code keeps serving, and undoes a create.

Then the remote quick deploy's path by hand: the lambdeck-zip-patcher helper runs as an
ordinary emulator python function, rebuilds a new object from the old one and a delta (its
SHA-256 and bytes are the new zip's), and UpdateFunctionCode from that object runs the new
code; a delta for another base is refused by the helper (DeltaError) and nothing is written."""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402
from s3rver import S3rver  # noqa: E402
from deltas import prefix_suffix  # noqa: E402

import botocore.exceptions  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/lambda"


def app(version):
    return zip_bytes({"app.py": "def handler(event, context):\n    return %r\n" % version})


def sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def invoke(lam, name):
    r = lam.invoke(FunctionName=name, Payload=b"{}")
    return json.loads(r["Payload"].read())


def main():
    with S3rver(buckets=["artifacts"]) as s3srv:
        s3 = s3srv.client()
        v1, v2 = app("v1"), app("v2")
        s3.put_object(Bucket="artifacts", Key="fn/v1.zip", Body=v1)
        s3.put_object(Bucket="artifacts", Key="fn/v2.zip", Body=v2)
        # the emulator reads S3 with the environment's endpoint and keys (s3rver takes any)
        os.environ.update(AWS_ENDPOINT_URL_S3=s3srv.endpoint, AWS_ACCESS_KEY_ID="S3RVER",
                          AWS_SECRET_ACCESS_KEY="S3RVER")
        with Emulator() as emu:
            lam = emu.client("lambda")
            r = lam.create_function(FunctionName="fn", Runtime="python3.12", Role=ROLE,
                                    Handler="app.handler",
                                    Code={"S3Bucket": "artifacts", "S3Key": "fn/v1.zip"})
            lam.get_waiter("function_active_v2").wait(FunctionName="fn")
            cfg = lam.get_function_configuration(FunctionName="fn")
            assert cfg["CodeSha256"] == sha(v1) and cfg["CodeSize"] == len(v1), cfg
            assert invoke(lam, "fn") == "v1"

            r = lam.update_function_code(FunctionName="fn", S3Bucket="artifacts",
                                         S3Key="fn/v2.zip")
            lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
            cfg = lam.get_function_configuration(FunctionName="fn")
            assert cfg["CodeSha256"] == sha(v2), (r, cfg)
            assert invoke(lam, "fn") == "v2"

            # a missing object: the update fails with S3's code, v2 keeps serving
            try:
                lam.update_function_code(FunctionName="fn", S3Bucket="artifacts",
                                         S3Key="fn/gone.zip")
                lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
                raise AssertionError("an update from a missing object succeeded")
            except (botocore.exceptions.ClientError,
                    botocore.exceptions.WaiterError) as e:
                assert "NoSuchKey" in str(e) or "Failed" in str(e), e
            cfg = lam.get_function_configuration(FunctionName="fn")
            assert cfg["CodeSha256"] == sha(v2), cfg
            if cfg["LastUpdateStatus"] == "Failed":
                assert "NoSuchKey" in cfg["LastUpdateStatusReason"], cfg
            assert invoke(lam, "fn") == "v2"

            # a create from a missing object is undone
            try:
                lam.create_function(FunctionName="gone", Runtime="python3.12", Role=ROLE,
                                    Handler="app.handler",
                                    Code={"S3Bucket": "artifacts", "S3Key": "fn/gone.zip"})
                lam.get_waiter("function_active_v2").wait(FunctionName="gone")
                raise AssertionError("a create from a missing object succeeded")
            except (botocore.exceptions.ClientError,
                    botocore.exceptions.WaiterError) as e:
                assert "NoSuchKey" in str(e) or "ResourceNotFound" in str(e) \
                    or "Failed" in str(e), e
            try:
                lam.get_function(FunctionName="gone")
                raise AssertionError("the failed create left a function behind")
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "ResourceNotFoundException", e

            # ZipFile still works next to it; S3ObjectVersion is refused
            lam.update_function_code(FunctionName="fn", ZipFile=v1)
            lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
            assert invoke(lam, "fn") == "v1"
            try:
                lam.update_function_code(FunctionName="fn", S3Bucket="artifacts",
                                         S3Key="fn/v2.zip", S3ObjectVersion="3")
                raise AssertionError("S3ObjectVersion accepted")
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "InvalidParameterValueException", e

            helper_path(emu, lam, s3, s3srv.endpoint, v1)
    print("ok")


def helper_path(emu, lam, s3, endpoint, v1):
    src = os.path.join(os.environ["LAMBDECK_SRC"], "backend/remote/zip_patcher/patcher.py")
    with open(src, "rb") as f:
        helper = zip_bytes({"patcher.py": f.read()})
    lam.create_function(FunctionName="lambdeck-zip-patcher", Runtime="python3.12", Role=ROLE,
                        Handler="patcher.handler", Timeout=60, MemorySize=512, Code={"ZipFile": helper},
                        Environment={"Variables": {"AWS_ENDPOINT_URL_S3": endpoint}})
    lam.get_waiter("function_active_v2").wait(FunctionName="lambdeck-zip-patcher")
    v3 = app("v3")
    delta = prefix_suffix(v1, v3)
    event = {"bucket": "artifacts", "base_key": "fn/v1.zip", "key": "fn/v3.zip",
             "delta": base64.b64encode(delta).decode()}
    r = lam.invoke(FunctionName="lambdeck-zip-patcher", Payload=json.dumps(event).encode())
    out = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, out
    assert out == {"key": "fn/v3.zip", "sha256": sha(v3), "size": len(v3)}, out
    assert s3.get_object(Bucket="artifacts", Key="fn/v3.zip")["Body"].read() == v3
    lam.update_function_code(FunctionName="fn", S3Bucket="artifacts", S3Key="fn/v3.zip")
    lam.get_waiter("function_updated_v2").wait(FunctionName="fn")
    assert lam.get_function_configuration(FunctionName="fn")["CodeSha256"] == sha(v3)
    assert invoke(lam, "fn") == "v3"

    # a delta made for another base: refused, nothing written, the old object as it was
    event.update(key="fn/v4.zip", delta=base64.b64encode(prefix_suffix(app("x"), v3)).decode())
    r = lam.invoke(FunctionName="lambdeck-zip-patcher", Payload=json.dumps(event).encode())
    out = json.loads(r["Payload"].read())
    assert r.get("FunctionError") and out["errorType"] == "DeltaError", out
    assert "not the one" in out["errorMessage"], out
    assert s3.get_object(Bucket="artifacts", Key="fn/v1.zip")["Body"].read() == v1
    try:
        s3.get_object(Bucket="artifacts", Key="fn/v4.zip")
        raise AssertionError("a refused delta wrote an object")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchKey", e


if __name__ == "__main__":
    main()
