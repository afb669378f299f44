"""Conformance of the emulator's Lambda API as AWS's own clients see it: every row of the
operation tables below runs through botocore (Debian's, the SDK under the AWS CLI), the AWS
CLI (/usr/bin/aws) and the AWS SDK for JavaScript v3 Lambda client (@aws-sdk/client-lambda
from npm, installed on first run into <build>/npm-sdk; npm missing or failing fails the test).
Each row names the AWS API reference page its expected shape comes from. The operation x
client table (works / differs / unsupported) is written to docs/emulator-conformance.md.

A cell fails the test when the emulator answers differently from AWS's documented shape
(differs) or does not serve the operation (unsupported by the emulator). An operation or
parameter the client itself does not know (older botocore/CLI from Debian) is reported as
"unsupported by the client" and does not fail the test."""
import base64
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import AWS, Emulator, zip_dir  # noqa: E402

SRC = os.environ["LAMBDECK_SRC"]
BUILD = os.environ.get("LAMBDECK_BUILD", os.path.join(SRC, "build"))
FIX = os.path.join(SRC, "tests/fixtures/emulator")
ROLE = "arn:aws:iam::000000000000:role/lambdeck-test"
DOC = "https://docs.aws.amazon.com/lambda/latest/api/API_%s.html"
TABLE = os.path.join(SRC, "docs/emulator-conformance.md")

# FunctionConfiguration members the emulator must return (API_FunctionConfiguration.html).
CONFIG_KEYS = ["FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSize",
               "Description", "Timeout", "MemorySize", "LastModified", "CodeSha256", "Version",
               "RevisionId", "State", "LastUpdateStatus", "PackageType", "Architectures",
               "EphemeralStorage", "TracingConfig"]
# AliasConfiguration members (API_AliasConfiguration.html).
ALIAS_KEYS = ["AliasArn", "Name", "FunctionVersion", "Description", "RevisionId"]


class ClientUnsupported(Exception):
    pass


class ApiError(Exception):
    def __init__(self, code, status, message):
        super().__init__("%s (%s): %s" % (code, status, message))
        self.code, self.status, self.message = code, status, message


# ---- the three clients: call(op, params) -> output dict, or raise ApiError/ClientUnsupported

class Botocore:
    name = "botocore"

    def __init__(self, emu):
        self.c = emu.client("lambda", retries=False)

    def call(self, op, params):
        import botocore.exceptions
        from botocore import xform_name
        if op not in self.c.meta.service_model.operation_names:
            raise ClientUnsupported("botocore %s has no %s" % (self.version(), op))
        try:
            out = getattr(self.c, xform_name(op))(**params)
        except botocore.exceptions.ParamValidationError as e:
            raise ClientUnsupported(str(e).splitlines()[-1])
        except botocore.exceptions.ClientError as e:
            err = e.response.get("Error", {})
            raise ApiError(err.get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"],
                           err.get("Message"))
        meta = out.pop("ResponseMetadata", {})
        out["$status"] = meta.get("HTTPStatusCode")
        if "Payload" in out:
            out["Payload"] = out["Payload"].read()
        return out

    def version(self):
        import botocore
        return botocore.__version__


class Cli:
    name = "aws cli"

    def __init__(self, emu):
        self.emu = emu
        self.tmp = tempfile.mkdtemp(prefix="lkconf.")

    def call(self, op, params):
        from botocore import xform_name
        params = dict(params)
        extra = []
        if op in ("CreateFunction", "UpdateFunctionCode"):
            z = params.pop("ZipFile", None) if op == "UpdateFunctionCode" else None
            if op == "CreateFunction":
                code = dict(params.pop("Code"))
                z = code.pop("ZipFile")
            path = os.path.join(self.tmp, "code.zip")
            with open(path, "wb") as f:
                f.write(z)
            extra += ["--zip-file", "fileb://" + path]
        if op == "Invoke":
            # the outfile is positional and --function-name required on the command line
            extra += ["--function-name", params.pop("FunctionName"),
                      "--payload", params.pop("Payload").decode(), os.path.join(self.tmp, "out")]
            if "Qualifier" in params:
                extra += ["--qualifier", params.pop("Qualifier")]
            if self.version().startswith("aws-cli/2"):
                extra += ["--cli-binary-format", "raw-in-base64-out"]
        args = ["lambda", xform_name(op, "-")]
        if params:
            args += ["--cli-input-json", json.dumps(params)]
        cp = self.emu.aws(*(args + extra), check=False)
        err = cp.stderr.decode(errors="replace")
        if cp.returncode != 0:
            if "Invalid choice" in err or "Unknown parameter" in err or "Unknown options" in err:
                raise ClientUnsupported(err.strip().splitlines()[-1][:200])
            import re
            m = re.search(r"An error occurred \((\w+)\)(?: when calling the \w+ operation)?"
                          r"(?: \(reached max retries: \d+\))?: (.*)", err)
            if m:
                raise ApiError(m.group(1), None, m.group(2))
            raise ApiError("CliFailed", None, err.strip()[-300:])
        out = json.loads(cp.stdout) if cp.stdout.strip() else {}
        if op == "Invoke":
            with open(os.path.join(self.tmp, "out"), "rb") as f:
                out["Payload"] = f.read()
        return out

    def version(self):
        if not hasattr(self, "_version"):
            cp = subprocess.run([AWS, "--version"], capture_output=True)
            self._version = (cp.stdout + cp.stderr).decode().split()[0]
        return self._version


def sdk_dir():
    """The npm cache of @aws-sdk/client-lambda under the build tree (installed on first use)."""
    d = os.path.join(BUILD, "npm-sdk")
    if not os.path.isdir(os.path.join(d, "node_modules/@aws-sdk/client-lambda")):
        os.makedirs(d, exist_ok=True)
        if not os.path.exists(os.path.join(d, "package.json")):
            with open(os.path.join(d, "package.json"), "w") as f:
                f.write('{"private": true}\n')
        cp = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "@aws-sdk/client-lambda"],
                            cwd=d, capture_output=True, timeout=280)
        if cp.returncode != 0:
            raise SystemExit("npm install @aws-sdk/client-lambda failed:\n" +
                             cp.stderr.decode(errors="replace")[-2000:])
    return d


class JsSdk:
    name = "js sdk v3"

    def __init__(self, emu):
        ak, sk = emu.credentials()
        self.dir = sdk_dir()
        self.p = subprocess.Popen(["node", os.path.join(SRC, "tests/lib/sdk_lambda.mjs"), self.dir,
                                   emu.endpoint, emu.region, ak, sk],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, op, params):
        def enc(v):
            if isinstance(v, bytes):
                return {"$b64": base64.b64encode(v).decode()}
            if isinstance(v, dict):
                return {k: enc(x) for k, x in v.items()}
            if isinstance(v, list):
                return [enc(x) for x in v]
            return v

        def dec(v):
            if isinstance(v, dict):
                if set(v) == {"$b64"}:
                    return base64.b64decode(v["$b64"])
                return {k: dec(x) for k, x in v.items()}
            if isinstance(v, list):
                return [dec(x) for x in v]
            return v
        self.p.stdin.write(json.dumps({"op": op, "input": enc(params)}) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit("the JS SDK driver exited")
        r = json.loads(line)
        if not r["ok"]:
            if r["name"] == "ClientUnsupported":
                raise ClientUnsupported(r["message"])
            raise ApiError(r["name"], r["status"], r["message"])
        out = dec(r["out"])
        out["$status"] = r["status"]
        return out

    def version(self):
        with open(os.path.join(self.dir, "node_modules/@aws-sdk/client-lambda/package.json")) as f:
            return json.load(f)["version"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


# ---- checks ----

def keys(*names):
    def check(out, ctx):
        missing = [k for k in names if k not in out]
        return "missing %s" % ", ".join(missing) if missing else None
    return check


def all_of(*checks):
    def check(out, ctx):
        for c in checks:
            why = c(out, ctx)
            if why:
                return why
        return None
    return check


def eq(key, want):
    def check(out, ctx):
        if key == "$status" and out.get(key) is None:
            return None  # the AWS CLI does not show the HTTP status
        got = out.get(key)
        w = want(ctx) if callable(want) else want
        return None if got == w else "%s is %r, AWS: %r" % (key, got, w)
    return check


def endswith(key, suffix):
    def check(out, ctx):
        got = str(out.get(key))
        return None if got.endswith(suffix) else "%s %r does not end with %r" % (key, got, suffix)
    return check


def payload(pred, what):
    def check(out, ctx):
        try:
            body = json.loads(out.get("Payload") or b"null")
        except ValueError:
            return "payload is not JSON"
        return None if pred(body) else "payload: %s (got %.200s)" % (what, body)
    return check


def versions_are(*want):
    def check(out, ctx):
        got = [v.get("Version") for v in out.get("Versions", [])]
        return None if got == list(want) else "Versions %r, AWS: %r" % (got, list(want))
    return check


def code_v(n):
    return zip_dir(os.path.join(FIX, "python"), replace={
        "app.py": open(os.path.join(FIX, "python/app.py")).read().replace(
            'VERSION = "v1"', 'VERSION = "v%d"' % n)})


# Rows: (family, doc page, operation, params(ctx), check or expected error code)
ROWS = [
    ("versions", "CreateFunction", "CreateFunction", lambda c: dict(
        FunctionName=c["fn"], Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code_v(1)}, Publish=True),
     all_of(keys(*CONFIG_KEYS), eq("Version", "1"), endswith("FunctionArn", ":1"))),
    ("versions", "UpdateFunctionConfiguration", "UpdateFunctionConfiguration", lambda c: dict(
        FunctionName=c["fn"], Description="second"),
     all_of(keys(*CONFIG_KEYS), eq("Version", "$LATEST"), eq("Description", "second"))),
    ("versions", "PublishVersion", "PublishVersion", lambda c: dict(
        FunctionName=c["fn"], Description="two"),
     all_of(keys(*CONFIG_KEYS), eq("Version", "2"), eq("Description", "two"),
            endswith("FunctionArn", ":2"), eq("$status", 201))),
    ("versions", "PublishVersion", "PublishVersion (unchanged)", lambda c: dict(
        FunctionName=c["fn"]), eq("Version", "2")),
    ("versions", "PublishVersion", "PublishVersion (stale RevisionId)", lambda c: dict(
        FunctionName=c["fn"], RevisionId="00000000-0000-0000-0000-000000000000"),
     "PreconditionFailedException"),
    ("versions", "ListVersionsByFunction", "ListVersionsByFunction", lambda c: dict(
        FunctionName=c["fn"]), versions_are("$LATEST", "1", "2")),
    ("versions", "ListVersionsByFunction", "ListVersionsByFunction (MaxItems)", lambda c: dict(
        FunctionName=c["fn"], MaxItems=2), all_of(versions_are("$LATEST", "1"),
                                                keys("NextMarker"))),
    ("versions", "UpdateFunctionCode", "UpdateFunctionCode (Publish)", lambda c: dict(
        FunctionName=c["fn"], ZipFile=code_v(3), Publish=True),
     all_of(eq("Version", "3"), endswith("FunctionArn", ":3"))),
    ("versions", "Invoke", "Invoke (Qualifier version)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="1", Payload=b"{}"),
     all_of(eq("ExecutedVersion", "1"),
            payload(lambda b: b["version"] == "v1" and b["arn"].endswith(":1") and
                    b["log_stream"].split("/")[-1].startswith("[1]") and
                    b["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == "1",
                    "version 1's code, context ARN :1, stream [1], env version 1"))),
    ("versions", "Invoke", "Invoke (qualified ARN)", lambda c: dict(
        FunctionName="arn:aws:lambda:%s:000000000000:function:%s:3" % (c["region"], c["fn"]),
        Payload=b"{}"),
     all_of(eq("ExecutedVersion", "3"),
            payload(lambda b: b["version"] == "v3" and b["arn"].endswith(":3"),
                    "version 3's code and the qualified ARN"))),
    ("versions", "Invoke", "Invoke (unqualified: $LATEST)", lambda c: dict(
        FunctionName=c["fn"], Payload=b"{}"),
     all_of(eq("ExecutedVersion", "$LATEST"),
            payload(lambda b: b["version"] == "v3" and b["arn"].endswith(":function:" +
                                                                          b["function_name"]),
                    "unqualified ARN for an unqualified invoke"))),
    ("versions", "GetFunctionConfiguration", "GetFunctionConfiguration (Qualifier)",
     lambda c: dict(FunctionName=c["fn"], Qualifier="1"),
     all_of(eq("Version", "1"), eq("Description", ""))),
    ("versions", "GetFunction", "GetFunction (Qualifier)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="2"), lambda out, ctx: eq("Version", "2")(
            out.get("Configuration", {}), ctx)),
    ("versions", "DeleteFunction", "DeleteFunction (Qualifier $LATEST)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="$LATEST"), "InvalidParameterValueException"),
    ("versions", "GetFunctionConfiguration", "GetFunctionConfiguration (no such version)",
     lambda c: dict(FunctionName=c["fn"], Qualifier="42"), "ResourceNotFoundException"),
    ("aliases", "CreateAlias", "CreateAlias", lambda c: dict(
        FunctionName=c["fn"], Name="live", FunctionVersion="1", Description="prod"),
     all_of(keys(*ALIAS_KEYS), endswith("AliasArn", ":live"), eq("$status", 201))),
    ("aliases", "CreateAlias", "CreateAlias (exists)", lambda c: dict(
        FunctionName=c["fn"], Name="live", FunctionVersion="1"), "ResourceConflictException"),
    ("aliases", "CreateAlias", "CreateAlias (no such version)", lambda c: dict(
        FunctionName=c["fn"], Name="other", FunctionVersion="9"), "ResourceNotFoundException"),
    ("aliases", "GetAlias", "GetAlias", lambda c: dict(FunctionName=c["fn"], Name="live"),
     all_of(keys(*ALIAS_KEYS), eq("FunctionVersion", "1"), eq("Description", "prod"))),
    ("aliases", "Invoke", "Invoke (alias)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="live", Payload=b"{}"),
     all_of(eq("ExecutedVersion", "1"),
            payload(lambda b: b["version"] == "v1" and b["arn"].endswith(":live"),
                    "the alias's version runs, the context ARN ends with :live"))),
    ("aliases", "UpdateAlias", "UpdateAlias (RoutingConfig)", lambda c: dict(
        FunctionName=c["fn"], Name="live", FunctionVersion="3",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
     all_of(keys(*ALIAS_KEYS, "RoutingConfig"), eq("FunctionVersion", "3"),
            eq("RoutingConfig", {"AdditionalVersionWeights": {"1": 0.5}}))),
    ("aliases", "Invoke", "Invoke (weighted alias)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="live", Payload=b"{}"),
     lambda out, ctx: None if out.get("ExecutedVersion") in ("1", "3") else
     "ExecutedVersion %r is neither 3 nor 1" % out.get("ExecutedVersion")),
    ("aliases", "UpdateAlias", "UpdateAlias (stale RevisionId)", lambda c: dict(
        FunctionName=c["fn"], Name="live", RevisionId="00000000-0000-0000-0000-000000000000"),
     "PreconditionFailedException"),
    ("aliases", "UpdateAlias", "UpdateAlias (routing with $LATEST)", lambda c: dict(
        FunctionName=c["fn"], Name="live", FunctionVersion="$LATEST",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
     "InvalidParameterValueException"),
    ("aliases", "ListAliases", "ListAliases", lambda c: dict(FunctionName=c["fn"]),
     lambda out, ctx: None if [a["Name"] for a in out.get("Aliases", [])] == ["live"] and
     not keys(*ALIAS_KEYS)(out["Aliases"][0], ctx) else "Aliases %r" % out.get("Aliases")),
    ("aliases", "DeleteFunction", "DeleteFunction (version an alias uses)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="1"), "ResourceConflictException"),
    ("aliases", "DeleteAlias", "DeleteAlias", lambda c: dict(FunctionName=c["fn"], Name="live"),
     lambda out, ctx: None),
    ("aliases", "GetAlias", "GetAlias (deleted)", lambda c: dict(FunctionName=c["fn"],
                                                                  Name="live"),
     "ResourceNotFoundException"),
    ("versions", "DeleteFunction", "DeleteFunction (Qualifier version)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="1"), lambda out, ctx: None),
    ("versions", "ListVersionsByFunction", "ListVersionsByFunction (after delete)",
     lambda c: dict(FunctionName=c["fn"]), versions_are("$LATEST", "2", "3")),
    ("versions", "DeleteFunction", "DeleteFunction", lambda c: dict(FunctionName=c["fn"]),
     lambda out, ctx: None),
    ("versions", "Invoke", "Invoke (deleted function's version)", lambda c: dict(
        FunctionName=c["fn"], Qualifier="2", Payload=b"{}"), "ResourceNotFoundException"),
]


def fn_arn(c):
    return "arn:aws:lambda:%s:000000000000:function:%s" % (c["region"], c["fs"])


def get_path(out, path):
    for k in path.split("."):
        out = out.get(k, {}) if isinstance(out, dict) else {}
    return out


def at(path, want):
    def check(out, ctx):
        got = get_path(out, path)
        return None if got == want else "%s is %r, AWS: %r" % (path, got, want)
    return check


def code_location(out, ctx):
    """Code.Location is an http URL that downloads the zip; a tampered one is refused."""
    import hashlib
    import urllib.error
    import urllib.request
    loc = get_path(out, "Code.Location")
    if not isinstance(loc, str) or not loc.startswith("http://"):
        return "Code.Location %r is not an http URL" % loc
    with urllib.request.urlopen(loc, timeout=30) as r:
        data = r.read()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    if sha != get_path(out, "Configuration.CodeSha256"):
        return "Code.Location does not download the function's zip"
    try:
        urllib.request.urlopen(loc[:-1] + ("0" if loc[-1] != "0" else "1"), timeout=30)
        return "a tampered Code.Location signature is accepted"
    except urllib.error.HTTPError as e:
        return None if e.code == 403 else "tampered Code.Location: HTTP %d, S3: 403" % e.code


def policy_has(sid):
    def check(out, ctx):
        try:
            doc = json.loads(out.get("Policy", "{}"))
        except ValueError:
            return "Policy is not a JSON document"
        sids = [st.get("Sid") for st in doc.get("Statement", [])]
        return None if sid in sids else "Policy statements %r lack %r" % (sids, sid)
    return check


ROWS += [
    ("settings", "CreateFunction", "CreateFunction (Tags, Architectures, EphemeralStorage, "
     "TracingConfig, VpcConfig, DeadLetterConfig)", lambda c: dict(
         FunctionName=c["fs"], Runtime="python3.12", Role=ROLE, Handler="app.handler",
         Code={"ZipFile": code_v(1)}, Tags={"team": "a"}, Architectures=["arm64"],
         EphemeralStorage={"Size": 1024}, TracingConfig={"Mode": "Active"},
         VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
         DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}),
     all_of(eq("Architectures", ["arm64"]), at("EphemeralStorage.Size", 1024),
            at("TracingConfig.Mode", "Active"), at("VpcConfig.SubnetIds", ["subnet-1"]),
            at("VpcConfig.SecurityGroupIds", ["sg-1"]),
            at("DeadLetterConfig.TargetArn", "arn:aws:sqs:us-east-1:000000000000:dlq"))),
    ("settings", "UpdateFunctionConfiguration", "UpdateFunctionConfiguration (LoggingConfig)",
     lambda c: dict(FunctionName=c["fs"],
                    LoggingConfig={"LogFormat": "JSON", "LogGroup": "/custom/" + c["fs"]}),
     lambda out, ctx: at("LoggingConfig", {"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                           "SystemLogLevel": "INFO",
                                           "LogGroup": "/custom/" + ctx["fs"]})(out, ctx)),
    ("settings", "UpdateFunctionConfiguration", "UpdateFunctionConfiguration (SnapStart)",
     lambda c: dict(FunctionName=c["fs"], SnapStart={"ApplyOn": "PublishedVersions"}),
     all_of(at("SnapStart.ApplyOn", "PublishedVersions"), at("SnapStart.OptimizationStatus",
                                                             "Off"))),
    ("settings", "GetFunction", "GetFunction (Tags, Code.Location download)", lambda c: dict(
        FunctionName=c["fs"]),
     all_of(at("Tags", {"team": "a"}), at("Configuration.Architectures", ["arm64"]),
            at("Code.RepositoryType", "S3"), code_location)),
    ("settings", "UpdateFunctionConfiguration", "UpdateFunctionConfiguration (stale "
     "RevisionId)", lambda c: dict(FunctionName=c["fs"], Timeout=5,
                                   RevisionId="00000000-0000-0000-0000-000000000000"),
     "PreconditionFailedException"),
    ("settings", "UpdateFunctionCode", "UpdateFunctionCode (stale RevisionId)", lambda c: dict(
        FunctionName=c["fs"], ZipFile=code_v(2),
        RevisionId="00000000-0000-0000-0000-000000000000"), "PreconditionFailedException"),
    ("settings", "TagResource", "TagResource", lambda c: dict(
        Resource=fn_arn(c), Tags={"env": "dev"}), lambda out, ctx: None),
    ("settings", "ListTags", "ListTags", lambda c: dict(Resource=fn_arn(c)),
     eq("Tags", {"team": "a", "env": "dev"})),
    ("settings", "UntagResource", "UntagResource", lambda c: dict(
        Resource=fn_arn(c), TagKeys=["team"]), lambda out, ctx: None),
    ("settings", "ListTags", "ListTags (after untag)", lambda c: dict(Resource=fn_arn(c)),
     eq("Tags", {"env": "dev"})),
    ("settings", "PutFunctionConcurrency", "PutFunctionConcurrency", lambda c: dict(
        FunctionName=c["fs"], ReservedConcurrentExecutions=0),
     eq("ReservedConcurrentExecutions", 0)),
    ("settings", "GetFunctionConcurrency", "GetFunctionConcurrency", lambda c: dict(
        FunctionName=c["fs"]), eq("ReservedConcurrentExecutions", 0)),
    ("settings", "Invoke", "Invoke (ReservedConcurrentExecutions 0: throttled)", lambda c: dict(
        FunctionName=c["fs"], Payload=b"{}"), "TooManyRequestsException"),
    ("settings", "DeleteFunctionConcurrency", "DeleteFunctionConcurrency", lambda c: dict(
        FunctionName=c["fs"]), lambda out, ctx: None),
    ("settings", "GetFunctionConcurrency", "GetFunctionConcurrency (none)", lambda c: dict(
        FunctionName=c["fs"]), lambda out, ctx: None if "ReservedConcurrentExecutions" not in
     out else "ReservedConcurrentExecutions still set"),
    ("settings", "Invoke", "Invoke (custom log group, arm64 kept)", lambda c: dict(
        FunctionName=c["fs"], Payload=b"{}"),
     lambda out, ctx: payload(lambda b: b["log_group"] == (
         "/custom/" if ctx.get("custom_group") else "/aws/lambda/") + b["function_name"],
         "the context's log group is LoggingConfig.LogGroup")(out, ctx)),
    ("settings", "GetAccountSettings", "GetAccountSettings", lambda c: {},
     lambda out, ctx: None if not keys("TotalCodeSize", "CodeSizeUnzipped", "CodeSizeZipped",
                                       "ConcurrentExecutions",
                                       "UnreservedConcurrentExecutions")(
         out.get("AccountLimit", {}), ctx) and "FunctionCount" in out.get("AccountUsage", {})
     else "AccountLimit/AccountUsage incomplete: %r" % out),
    ("settings", "GetFunctionCodeSigningConfig", "GetFunctionCodeSigningConfig", lambda c: dict(
        FunctionName=c["fs"]), keys("CodeSigningConfigArn", "FunctionName")),
    ("settings", "AddPermission", "AddPermission", lambda c: dict(
        FunctionName=c["fs"], StatementId="s3-invoke", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket"),
     lambda out, ctx: None if json.loads(out.get("Statement", "{}")).get("Sid") == "s3-invoke"
     else "Statement %r" % out.get("Statement")),
    ("settings", "AddPermission", "AddPermission (same StatementId)", lambda c: dict(
        FunctionName=c["fs"], StatementId="s3-invoke", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com"), "ResourceConflictException"),
    ("settings", "GetPolicy", "GetPolicy", lambda c: dict(FunctionName=c["fs"]),
     all_of(keys("Policy", "RevisionId"), policy_has("s3-invoke"))),
    ("settings", "RemovePermission", "RemovePermission", lambda c: dict(
        FunctionName=c["fs"], StatementId="s3-invoke"), lambda out, ctx: None),
    ("settings", "GetPolicy", "GetPolicy (no statements)", lambda c: dict(
        FunctionName=c["fs"]), "ResourceNotFoundException"),
    ("settings", "GetFunctionUrlConfig", "GetFunctionUrlConfig (none)", lambda c: dict(
        FunctionName=c["fs"]), "ResourceNotFoundException"),
    ("settings", "ListEventSourceMappings", "ListEventSourceMappings", lambda c: dict(
        FunctionName=c["fs"]), eq("EventSourceMappings", [])),
    ("settings", "DeleteFunction", "DeleteFunction", lambda c: dict(FunctionName=c["fs"]),
     lambda out, ctx: None),
]


# Services the emulator does not serve: (service, protocol, botocore call, CLI args, the error
# code the client must show). The message must say the emulator does not serve the service.
# Protocols: https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html (query XML
# ErrorResponse), https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
# (REST-XML Error), https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html
# (JSON __type).
SERVICES = [
    ("sts", "query XML", ("get_caller_identity", {}), ["sts", "get-caller-identity"],
     "InvalidAction"),
    ("iam", "query XML", ("list_users", {}), ["iam", "list-users"], "InvalidAction"),
    ("cloudformation", "query XML", ("list_stacks", {}), ["cloudformation", "list-stacks"],
     "InvalidAction"),
    ("s3", "REST-XML", ("list_buckets", {}), ["s3api", "list-buckets"], "NotImplemented"),
    ("dynamodb", "JSON", ("list_tables", {}), ["dynamodb", "list-tables"],
     "UnknownOperationException"),
]


def run_services(emu):
    """{service: {client: (verdict, detail)}} for the services we do not serve."""
    import botocore.config
    import botocore.exceptions
    import botocore.session
    ak, sk = emu.credentials()
    out = {}
    for svc, _proto, (method, params), cli, code in SERVICES:
        cells = out.setdefault(svc, {})
        c = botocore.session.Session().create_client(
            svc, region_name=emu.region, endpoint_url=emu.endpoint, aws_access_key_id=ak,
            aws_secret_access_key=sk, config=botocore.config.Config(retries={"max_attempts": 0}))
        try:
            getattr(c, method)(**params)
            cells["botocore"] = ("differs", "the call succeeded")
        except botocore.exceptions.ClientError as e:
            err = e.response.get("Error", {})
            ok = err.get("Code") == code and "does not serve" in err.get("Message", "")
            cells["botocore"] = ("works", "") if ok else (
                "differs", "%s: %s" % (err.get("Code"), err.get("Message")))
        except Exception as e:  # an unparsable answer
            cells["botocore"] = ("differs", "%s: %s" % (type(e).__name__, e))
        cp = emu.aws(*cli, check=False)
        err = cp.stderr.decode(errors="replace")
        ok = cp.returncode != 0 and "(%s)" % code in err and "does not serve" in err
        cells["aws cli"] = ("works", "") if ok else ("differs", err.strip()[-200:])
        cells["js sdk v3"] = ("not run", "the suite installs only @aws-sdk/client-lambda")
        print("%-14s %-10s %s" % (svc, cells["botocore"][0], cells["aws cli"][0]), flush=True)
    return out


def run_row(client, row, ctx):
    """One cell: ('works'|'differs'|'unsupported by the client'|'unsupported', detail)."""
    _family, op, _label, params, expect = row
    try:
        out = client.call(op, params(ctx))
    except ClientUnsupported as e:
        return "unsupported by the client", str(e)
    except ApiError as e:
        if isinstance(expect, str) and e.code == expect:
            return "works", ""
        if e.code in ("UnknownOperationException",):
            return "unsupported", "%s: %s" % (e.code, e.message)
        return "differs", "%s: %s" % (e.code, e.message)
    if isinstance(expect, str):
        return "differs", "succeeded, AWS answers %s" % expect
    why = expect(out, ctx)
    return ("differs", why) if why else ("works", "")


def main():
    results = {}  # label -> {client: (verdict, detail)}
    versions = {}
    order = []
    with Emulator() as emu:
        clients = [Botocore(emu), Cli(emu), JsSdk(emu)]
        try:
            for cl in clients:
                versions[cl.name] = cl.version()
                ctx = {"fn": "conf-" + cl.name.replace(" ", "-").replace(".", ""),
                       "region": emu.region}
                ctx["fs"] = ctx["fn"] + "-settings"
                for row in ROWS:
                    label = "%s: %s" % (row[0], row[2])
                    if label not in results:
                        results[label] = {}
                        order.append((label, row))
                    v = run_row(cl, row, ctx)
                    if row[2].endswith("(LoggingConfig)") and v[0] == "works":
                        ctx["custom_group"] = True  # the client could set it
                    results[label][cl.name] = v
                    print("%-9s %-60s %-10s %s" % (cl.name, label, v[0], v[1]), flush=True)
        finally:
            clients[2].close()
        services = run_services(emu)
        log = emu.read_log()
    write_table(results, order, [c.name for c in clients], versions, services)
    bad = [(lbl, cl, v) for lbl, cells in list(results.items()) + list(services.items())
           for cl, v in cells.items() if v[0] in ("differs", "unsupported")]
    for lbl, cl, v in bad:
        print("FAIL: %s via %s: %s %s" % (lbl, cl, v[0], v[1]))
    if bad:
        print(log[-3000:])
        sys.exit(1)
    print("all %d operations x %d clients conform" % (len(results), len(clients)))


def write_table(results, order, clients, versions, services):
    lines = ["# The emulator as AWS's own clients see it",
             "",
             "Generated by `tests/integration/emulator_conformance.py` (ctest "
             "`integration.emulator_conformance`); do not edit by hand. Each row is one "
             "operation (or one documented behaviour of it) checked against the shape the AWS "
             "Lambda API reference documents; *works* means the client got what AWS documents, "
             "*differs* says how the answer differs, *unsupported* means the emulator does not "
             "serve it, *unsupported by the client* that the client version itself cannot send "
             "it.",
             "",
             "Clients: " + ", ".join("%s %s" % (c, versions.get(c, "")) for c in clients) + ".",
             "",
             "| Operation | AWS reference | " + " | ".join(clients) + " |",
             "|---|---|" + "---|" * len(clients)]
    for label, row in order:
        cells = []
        for c in clients:
            verdict, detail = results[label].get(c, ("not run", ""))
            cells.append(verdict + (" (%s)" % detail.replace("|", "/")[:120] if detail and
                                    verdict != "works" else ""))
        lines.append("| %s | [%s](%s) | %s |" % (label, row[1], DOC % row[1], " | ".join(cells)))
    lines += ["",
              "## Services the emulator does not serve",
              "",
              "A client pointed at the emulator for another service gets an error in that "
              "service's protocol saying lambdeck's emulator does not serve it (checked: the "
              "client parses the error code and shows the message).",
              "",
              "| Service | Protocol | Error code | " + " | ".join(clients) + " |",
              "|---|---|---|" + "---|" * len(clients)]
    for svc, proto, _call, _cli, code in SERVICES:
        cells = []
        for c in clients:
            verdict, detail = services[svc].get(c, ("not run", ""))
            cells.append(verdict + (" (%s)" % detail.replace("|", "/")[:120] if detail and
                                    verdict != "works" else ""))
        lines.append("| %s | %s | %s | %s |" % (svc, proto, code, " | ".join(cells)))
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(TABLE), exist_ok=True)
    tmp = TABLE + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, TABLE)


if __name__ == "__main__":
    main()
