"""The s3 and dynamodb service kinds end to end (issue 19 items 2, 3): s3rver and dynalite
(npm, installed into lambdeck's cache on first use) start with the emulator; a Python
function (Debian's boto3, reading AWS_ENDPOINT_URL_S3 explicitly as older SDKs need) reads an
object from the bucket and writes an item; a Node function (AWS SDK v3 from npm, which reads
AWS_ENDPOINT_URL_DYNAMODB by itself) reads it back; /usr/bin/aws sees the item after
eval "$(lambdeck services env)"; dynalite killed: restarted with its data."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from emu import Emulator, zip_bytes, zip_dir  # noqa: E402

LK = os.environ["LAMBDECK"]
ROLE = "arn:aws:iam::000000000000:role/lambda"
SLOW = 3 if "asan" in LK else 1

PY = '''
import json, os, boto3
def handler(event, context):
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
    body = s3.get_object(Bucket="inbox", Key="greeting.txt")["Body"].read().decode()
    ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    ddb.put_item(TableName="Items", Item={"id": {"S": event["id"]}, "text": {"S": body}})
    return {"stored": body}
'''

NODE = '''
const { DynamoDBClient, GetItemCommand } = require("@aws-sdk/client-dynamodb");
const client = new DynamoDBClient({});
exports.handler = async (event) => {
  const r = await client.send(new GetItemCommand({TableName: "Items", Key: {id: {S: event.id}}}));
  return {text: r.Item.text.S, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB};
};
'''


def services(proj, *args):
    cp = subprocess.run([LK, "--project", proj, "services"] + list(args), capture_output=True,
                        text=True, timeout=120)
    assert cp.returncode == 0, cp
    return cp.stdout


def wait_ready(proj, pred=None, timeout=240):
    end = time.monotonic() + timeout * SLOW
    while time.monotonic() < end:
        st = {s["name"]: s for s in json.loads(services(proj, "list", "--json"))}
        if all(s["state"] == "ready" for s in st.values()) and (pred is None or pred(st)):
            return st
        bad = [s for s in st.values() if s["state"] == "failed"]
        assert not bad, bad
        time.sleep(0.2)
    raise AssertionError("services not ready: %s" % services(proj, "list"))


def aws_env(proj, emu):
    """/usr/bin/aws with the services' variables from `eval "$(lambdeck services env)"`."""
    out = subprocess.run(["bash", "-c", 'eval "$("$0" --project "$1" services env)" && env',
                          LK, proj], capture_output=True, text=True, check=True).stdout
    env = dict(emu.env)
    env.pop("ENDPOINT", None)
    for line in out.splitlines():
        k, _, v = line.partition("=")
        if k.startswith("AWS_ENDPOINT_URL_"):
            env[k] = v
    return env


def aws(env, svc, *args):
    # the AWS CLI of Debian 12 (2.9) predates AWS_ENDPOINT_URL_<SERVICE>: passed explicitly
    url = env["AWS_ENDPOINT_URL_" + ("S3" if svc == "s3api" else svc.upper())]
    cp = subprocess.run(["/usr/bin/aws", "--endpoint-url", url, "--output", "json", svc] +
                        list(args), env=env, capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp
    return json.loads(cp.stdout) if cp.stdout.strip() else None


def main():
    proj = tempfile.mkdtemp(prefix="lksvcaws.")
    with open(os.path.join(proj, "lambdeck.json"), "w") as f:
        json.dump({"services": {"files": {"kind": "s3"}, "db": {"kind": "dynamodb"}}}, f)
    node_dir = os.path.join(proj, "node-fn")
    os.makedirs(node_dir)
    with open(os.path.join(node_dir, "index.js"), "w") as f:
        f.write(NODE)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                    "@aws-sdk/client-dynamodb"], cwd=node_dir, check=True, timeout=600)

    emu = Emulator(state_dir=os.path.join(proj, ".lambdeck", "emulator")).start()
    try:
        st = wait_ready(proj)
        env = aws_env(proj, emu)
        assert env["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:%d" % st["files"]["port"], env
        aws(env, "s3api", "create-bucket", "--bucket", "inbox")
        src = os.path.join(proj, "greeting.txt")
        with open(src, "w") as f:
            f.write("hello from s3rver")
        aws(env, "s3api", "put-object", "--bucket", "inbox", "--key", "greeting.txt",
            "--body", src)
        aws(env, "dynamodb", "create-table", "--table-name", "Items",
            "--attribute-definitions", "AttributeName=id,AttributeType=S",
            "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")

        lam = emu.client("lambda")
        lam.create_function(FunctionName="writer", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Timeout=30,
                            Code={"ZipFile": zip_bytes({"app.py": PY})})
        lam.create_function(FunctionName="reader", Runtime="nodejs20.x", Role=ROLE,
                            Handler="index.handler", Timeout=30,
                            Code={"ZipFile": zip_dir(node_dir)})
        for name in ("writer", "reader"):
            for _ in range(600):
                if lam.get_function(FunctionName=name)["Configuration"]["State"] == "Active":
                    break
                time.sleep(0.05)
        r = lam.invoke(FunctionName="writer", Payload=json.dumps({"id": "a1"}))
        out = json.loads(r["Payload"].read())
        assert "FunctionError" not in r and out == {"stored": "hello from s3rver"}, out
        r = lam.invoke(FunctionName="reader", Payload=json.dumps({"id": "a1"}))
        out = json.loads(r["Payload"].read())
        assert "FunctionError" not in r, out
        assert out == {"text": "hello from s3rver",
                       "endpoint": "http://127.0.0.1:%d" % st["db"]["port"]}, out
        item = aws(env, "dynamodb", "get-item", "--table-name", "Items",
                   "--key", '{"id": {"S": "a1"}}')
        assert item["Item"]["text"]["S"] == "hello from s3rver", item

        # dynalite dies: restarted on the same port with its data (the data directory)
        db = st["db"]
        members = [int(p) for p in os.listdir("/proc") if p.isdigit() and p != str(db["pid"])
                   and os.path.exists("/proc/%s/stat" % p)
                   and open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[2] == str(db["pid"])]
        assert members, "no dynalite process under its guard"
        for p in members:
            os.kill(p, signal.SIGKILL)
        wait_ready(proj, lambda s: s["db"]["restarts"] == 1)
        r = lam.invoke(FunctionName="reader", Payload=json.dumps({"id": "a1"}))
        out = json.loads(r["Payload"].read())
        assert "FunctionError" not in r and out["text"] == "hello from s3rver", out
    finally:
        emu.stop()
    print("ok")


if __name__ == "__main__":
    main()
