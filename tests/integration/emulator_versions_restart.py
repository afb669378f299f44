"""Published versions, aliases, tags, reserved concurrency and the resource policy survive an
emulator restart, and a version keeps running its own code after $LATEST changed
(botocore; shapes as in https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html
and API_AliasConfiguration.html)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_dir  # noqa: E402

FIX = os.path.join(os.environ["LAMBDECK_SRC"], "tests/fixtures/emulator/python")
ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def code(n):
    src = open(os.path.join(FIX, "app.py")).read().replace('VERSION = "v1"', 'VERSION = "v%d"' % n)
    return zip_dir(FIX, replace={"app.py": src})


def run(lam, **kw):
    r = lam.invoke(Payload=b"{}", **kw)
    return r.get("ExecutedVersion"), json.loads(r["Payload"].read())


def main():
    with Emulator() as emu:
        lam = emu.client("lambda", retries=False)
        lam.create_function(FunctionName="keep", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code={"ZipFile": code(1)}, Publish=True,
                            Tags={"team": "a"})
        lam.update_function_code(FunctionName="keep", ZipFile=code(2))

        lam.publish_version(FunctionName="keep")
        lam.create_alias(FunctionName="keep", Name="live", FunctionVersion="1")
        lam.put_function_concurrency(FunctionName="keep", ReservedConcurrentExecutions=5)
        lam.add_permission(FunctionName="keep", StatementId="s1", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com")
        lam.update_function_code(FunctionName="keep", ZipFile=code(3))
        ver, body = run(lam, FunctionName="keep", Qualifier="1")
        check(ver == "1" and body["version"] == "v1", "version 1 runs its own code after "
              "$LATEST changed twice: %r %r" % (ver, body.get("version")))
        emu.restart()
        lam = emu.client("lambda", retries=False)
        vs = [v["Version"] for v in lam.list_versions_by_function(FunctionName="keep")["Versions"]]
        check(vs == ["$LATEST", "1", "2"], "versions after a restart: %r" % vs)
        for qual, want in (("1", "v1"), ("2", "v2"), ("live", "v1"), ("$LATEST", "v3")):
            ver, body = run(lam, FunctionName="keep", Qualifier=qual)
            check(body.get("version") == want, "after a restart %s runs %s: %r" % (qual, want, body.get("version")))
        check(lam.get_alias(FunctionName="keep", Name="live")["FunctionVersion"] == "1",
              "the alias survives a restart")
        check(lam.get_function(FunctionName="keep").get("Tags") == {"team": "a"},
              "tags survive a restart")
        check(lam.get_function_concurrency(FunctionName="keep").get("ReservedConcurrentExecutions") == 5,
              "reserved concurrency survives a restart")
        check("s1" in lam.get_policy(FunctionName="keep")["Policy"], "the policy survives a restart")
        v = lam.publish_version(FunctionName="keep")
        check(v["Version"] == "3", "numbering continues after a restart: %r" % v["Version"])
        lam.delete_function(FunctionName="keep", Qualifier="2")
        emu.restart()
        lam = emu.client("lambda", retries=False)
        vs = [v["Version"] for v in lam.list_versions_by_function(FunctionName="keep")["Versions"]]
        check(vs == ["$LATEST", "1", "3"], "a deleted version stays deleted: %r" % vs)
        lam.delete_function(FunctionName="keep")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
