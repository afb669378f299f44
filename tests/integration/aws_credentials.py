"""Credentials end to end: credential_process (run as an argv, JSON parsed, cached until
shortly before Expiration, refreshed, errors without leaking output), the chain order, and
`lambdeck doctor` (text and --json) against a scripted loopback server. The secret must
never appear in any output."""
import json
import os
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests", "lib"))
import awsfake  # noqa: E402
from awsfake import AK, SK, call  # noqa: E402

FAILS = []
OUTPUTS = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else " " + detail))
    if not cond:
        FAILS.append(what)


def script(tmp, name, body):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, stat.S_IRWXU)
    return path


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def run(env, *args):
    r, rc, out, err = call(env, *args)
    OUTPUTS.append(out + err)
    return r, rc, out + err


def main():
    srv = awsfake.Server()
    tmp = tempfile.mkdtemp(prefix="lk-aws-creds dir ")  # a space in the path, on purpose
    counter = os.path.join(tmp, "count")
    good = script(tmp, "good creds", f"""echo x >> "{counter}"
cat <<JSON
{{"Version": 1, "AccessKeyId": "{AK}", "SecretAccessKey": "{SK}",
  "SessionToken": "session-token-1", "Expiration": "$1"}}
JSON
""")
    cfg = os.path.join(tmp, "config")

    def env_for(process, extra=None):
        with open(cfg, "w") as f:
            f.write(f"[profile proc]\nregion = eu-west-1\ncredential_process = {process}\n")
        e = awsfake.base_env(tmp, {"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "proc",
                                   "LK_ENDPOINT": srv.url})
        del e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], e["AWS_REGION"]
        e.update(extra or {})
        return e

    def count():
        return len(open(counter).read().split()) if os.path.exists(counter) else 0

    quoted = f"'{good}'"
    # Cached: three calls, one process run, session token sent.
    env = env_for(f"{quoted} {iso(time.time() + 3600)}", {"LK_REPEAT": "3"})
    srv.expect(*[dict(status=200, body={"Configuration": {}})] * 3)
    r, rc, out = run(env, "get-function", "f")
    check(rc == 0 and count() == 1 and len(srv.requests) == 3 and
          all(q["headers"].get("X-Amz-Security-Token") == "session-token-1" for q in srv.requests),
          "credential_process output cached until expiry", out + str(count()))

    # Expiring within the refresh window: run again before each use.
    os.unlink(counter)
    env = env_for(f"{quoted} {iso(time.time() + 120)}", {"LK_REPEAT": "3"})
    srv.expect(*[dict(status=200, body={"Configuration": {}})] * 3)
    r, rc, out = run(env, "get-function", "f")
    check(rc == 0 and count() == 3, "credentials near expiry are refreshed", out + str(count()))

    r, rc, out = run(env_for(f"{quoted} {iso(time.time() + 3600)}"), "creds")
    check(rc == 0 and r["creds_source"].startswith("credential_process (profile proc in ") and
          r["creds_hint"] == "AKID****0001" and r["creds_token"] and
          abs(r["creds_expiration_ms"] / 1000 - (time.time() + 3600)) < 60,
          "credential source, hint and expiry reported", out)

    # Bad outputs.
    cases = [
        ("not json", script(tmp, "nojson", f'echo "here is {SK} oops"\n'),
         "did not print a JSON object"),
        ("exit status", script(tmp, "fails", 'echo "token expired, run aws sso login" >&2; exit 3\n'),
         "(exit status 3): token expired, run aws sso login"),
        ("version", script(tmp, "v2", f'echo \'{{"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "{SK}"}}\'\n'),
         "Version"),
        ("missing secret", script(tmp, "nosecret", 'echo \'{"Version": 1, "AccessKeyId": "a"}\'\n'),
         "SecretAccessKey"),
        ("bad expiration", script(tmp, "badexp", f'echo \'{{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "{SK}", "Expiration": "soon"}}\'\n'),
         "Expiration"),
        ("already expired", script(tmp, "expired", f'echo \'{{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "{SK}", "Expiration": "2001-01-01T00:00:00Z"}}\'\n'),
         "already expired"),
    ]
    for name, path, want in cases:
        srv.expect()
        r, rc, out = run(env_for(f"'{path}'"), "get-function", "f")
        check(rc == 1 and r["code"] == "CredentialProcessError" and want in r["message"] and
              not srv.requests, f"credential_process {name} -> clear error", out)
    srv.expect()
    r, rc, out = run(env_for("/nonexistent/helper --x"), "get-function", "f")
    check(rc == 1 and r["code"] == "CredentialProcessError" and "/nonexistent/helper" in r["message"],
          "credential_process not found", out)
    r, rc, out = run(env_for("'unterminated"), "get-function", "f")
    check(rc == 1 and "unterminated quote" in r["message"], "credential_process bad quoting", out)

    # Cancelling while credential_process runs, and freeing the client under it: no callback,
    # the child is reaped, the loop closes cleanly (the tool checks uv_loop_close).
    slow = script(tmp, "slow", "sleep 2\n")
    slower = script(tmp, "slower", "exec sleep 60\n")
    # (A cancelled op leaves the process running to completion: its result is cached; freeing
    # the client kills it.)
    for extra, what, limit, cmd in (({}, "cancel while credential_process runs", 60, slow),
                                    ({"LK_FREE_CLIENT": "1"},
                                     "free the client while credential_process runs (child killed)",
                                     40, slower)):
        t0 = time.time()
        r, rc, out = run(env_for(f"'{cmd}'", dict(extra, LK_CANCEL_AFTER_MS="300")), "get-function", "f")
        check(rc == 0 and '"callback_called":false' in out and time.time() - t0 < limit, what, out)

    # Chain order: static keys in the credentials file beat the profile's credential_process.
    credfile = os.path.join(tmp, "credentials")
    with open(credfile, "w") as f:
        f.write(f"[proc]\naws_access_key_id = {AK}\naws_secret_access_key = {SK}\n")
    if os.path.exists(counter):
        os.unlink(counter)
    srv.expect(dict(status=200, body={}))
    r, rc, out = run(env_for(f"{quoted} {iso(time.time() + 3600)}",
                             {"AWS_SHARED_CREDENTIALS_FILE": credfile}), "get-function", "f")
    check(rc == 0 and count() == 0 and "X-Amz-Security-Token" not in srv.requests[0]["headers"],
          "static profile keys come before credential_process", out)
    # Environment keys beat everything.
    r, rc, out = run(env_for("/nonexistent/helper", {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK}),
                     "creds")
    check(rc == 0 and r["creds_source"] == "environment", "environment keys come first", out)
    # A malformed config file: file:line:col.
    with open(cfg, "w") as f:
        f.write("[profile proc]\nregion = x\n[oops\n")
    e = awsfake.base_env(tmp, {"AWS_CONFIG_FILE": cfg})
    p = subprocess.run([awsfake.TOOL, "call", "creds"], env=e, capture_output=True)
    check(p.returncode == 1 and f"{cfg}:3:6:" in p.stderr.decode(),
          "malformed config reported with file:line:col", p.stderr.decode())

    # lambdeck doctor against the scripted server.
    lam = os.environ["LAMBDECK"]
    denv = env_for(f"{quoted} {iso(time.time() + 3600)}")
    srv.expect(dict(status=200, body={"Functions": []}), dict(status=200, body={"logGroups": []}))
    p = subprocess.run([lam, "--project", tmp, "doctor", "--endpoint-url", srv.url], env=denv, capture_output=True)
    out = p.stdout.decode() + p.stderr.decode()
    OUTPUTS.append(out)
    paths = sorted(q["path"] for q in srv.requests)
    check(p.returncode == 0 and "profile:      proc (AWS_PROFILE)" in out and
          f"region:       eu-west-1 (profile proc in {cfg})" in out and
          f"lambda      {srv.url} (--endpoint-url)" in out and
          "AKID****0001 from credential_process (profile proc" in out and
          "with session token, expires" in out and
          "check:        lambda ListFunctions ok" in out and
          "check:        logs DescribeLogGroups ok" in out and
          paths == ["/", "/2015-03-31/functions/"], "doctor text output", out)
    srv.expect(dict(status=403, headers={"x-amzn-ErrorType": "UnrecognizedClientException",
                                         "x-amzn-RequestId": "rid-9"},
                    body={"message": "The security token included in the request is invalid."}),
               dict(status=200, body={"logGroups": []}))
    p = subprocess.run([lam, "--project", tmp, "doctor", "--json", "--endpoint-url", srv.url], env=denv,
                       capture_output=True)
    OUTPUTS.append(p.stdout.decode() + p.stderr.decode())
    try:
        d = json.loads(p.stdout)
    except ValueError:
        d = {}
    checks = {c["call"]: c for c in d.get("checks", [])}
    lam_check = checks.get("lambda ListFunctions", {})
    check(p.returncode == 1 and d.get("credentials", {}).get("sessionToken") is True and
          d["endpoints"]["logs"]["source"] == "--endpoint-url" and
          (lam_check.get("error") or {}).get("code") in ("UnrecognizedClientException", None) and
          any((c.get("error") or {}).get("code") == "UnrecognizedClientException" and c["error"].get("requestId") == "rid-9"
              for c in checks.values()),
          "doctor --json reports a failing call with code and request id", p.stdout.decode())
    p = subprocess.run([lam, "--project", tmp, "--aws", "doctor", "--no-call"], env=awsfake.base_env(tmp, {"AWS_REGION": "eu-north-1"}),
                       capture_output=True)
    out = p.stdout.decode()
    OUTPUTS.append(out + p.stderr.decode())
    check(p.returncode == 0 and "https://lambda.eu-north-1.amazonaws.com (default)" in out and
          "AKID****0001 from environment" in out and "check:" not in out and
          "mode:         AWS default eu-north-1" in out,
          "doctor --no-call resolves without calling", out)

    check(not any(SK in o for o in OUTPUTS), "the secret never appears in any output")
    check(not srv.errors, "signatures verified by botocore", "\n".join(srv.errors))
    srv.close()
    if FAILS:
        sys.exit(f"{len(FAILS)} checks failed: {FAILS}")


if __name__ == "__main__":
    main()
