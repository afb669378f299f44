"""emulator_s3_code: the emulator takes code from S3 locations (issue 20 item 4), as AWS does
for artifacts above the ZipFile limit and as the remote quick deploy needs: CreateFunction with
Code.S3Bucket/S3Key and UpdateFunctionCode with S3Bucket/S3Key read the object with GetObject
from the S3 endpoint in the emulator's environment (AWS_ENDPOINT_URL_S3; here a real s3rver),
the CodeSha256 is the object's and the function runs its code. A missing object fails the
update with S3's error code while the old code keeps serving, and undoes a create."""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes  # noqa: E402
from s3rver import S3rver  # noqa: E402

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
    print("ok")


if __name__ == "__main__":
    main()
