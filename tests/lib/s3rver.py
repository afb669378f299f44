"""s3rver.py - a private s3rver (npm) for a python test, as the emulator's "s3" service runs it.

    import sys, os; sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
    from s3rver import S3rver
    with S3rver(buckets=["artifacts"]) as s3:
        s3.endpoint                 # http://127.0.0.1:PORT; any access key is accepted
        s3.client()                 # botocore S3 client for it

s3rver is installed into lambdeck's npm cache ($XDG_CACHE_HOME/lambdeck/npm/s3rver, where the
emulator's "s3" service kind installs it) on first use. Ephemeral port, temp dir; ready when
s3rver says it listens (no polling)."""
import os
import shutil
import subprocess
import tempfile

SCRIPT = r"""
const mod = process.env.LAMBDECK_S3RVER_MODULE;
const S3rver = require(mod);
const account = require(mod + '/lib/models/account.js');
const registryGet = Map.prototype.get.bind(account.registry);
account.registry.get = (key) => registryGet(key) || account.DUMMY_ACCOUNT;
const server = new S3rver({address: '127.0.0.1', port: 0, directory: process.env.S3RVER_DIRECTORY,
  silent: true, vhostBuckets: false, allowMismatchedSignatures: true,
  configureBuckets: JSON.parse(process.env.S3RVER_BUCKETS).map((name) => ({name}))});
server.run().then((addr) => console.log('PORT ' + addr.port),
  (err) => { console.error(err.message); process.exit(1); });
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
"""


def module():
    """s3rver in lambdeck's npm cache, installed there on first use."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    prefix = os.path.join(cache, "lambdeck", "npm", "s3rver")
    mod = os.path.join(prefix, "node_modules", "s3rver")
    if not os.path.isdir(mod):
        os.makedirs(prefix, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix,
                        "s3rver@^3.7.1"], check=True, stdout=subprocess.DEVNULL)
    return mod


class S3rver:
    def __init__(self, buckets=()):
        import json
        self.dir = tempfile.mkdtemp(prefix="lk-s3rver-")
        env = dict(os.environ, LAMBDECK_S3RVER_MODULE=module(), S3RVER_DIRECTORY=self.dir,
                   S3RVER_BUCKETS=json.dumps(list(buckets)))
        self.proc = subprocess.Popen(["node", "-e", SCRIPT], env=env, stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # until s3rver listens (or exits)
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("s3rver did not start: %r" % line)
        self.endpoint = "http://127.0.0.1:%d" % int(line.split()[1])

    def client(self):
        import botocore.session
        return botocore.session.get_session().create_client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
