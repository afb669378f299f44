"""Quick build against a writer rewriting files while `lambdeck build --full` runs (issue
21.9): afterwards every zip entry's content hash equals the manifest's (the build hashes what
it zips), and the next build picks up the latest content (the stat recorded is never newer
than the content read; files changed during or right after it are hashed again), so the zip
then holds exactly what is on disk."""
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import zipfile

sys.path.insert(0, os.path.join(os.environ["LAMBDECK_SRC"], "tests/lib"))
from cli import fail, run  # noqa: E402

FILES = 3000


def manifest_entries(proj):
    """path -> (size, sha256 hex) from the function's manifest.json."""
    text = open(os.path.join(proj, ".lambdeck/build/Fn/manifest.json")).read()
    doc = json.loads(text)
    return {e[0]: (e[1], e[6]) for e in doc["entries"]}


def zip_entries(proj):
    with zipfile.ZipFile(os.path.join(proj, ".lambdeck/build/Fn/code.zip")) as z:
        return {n: z.read(n) for n in z.namelist()}


def main():
    tmp = tempfile.mkdtemp(prefix="lk-racing-")
    try:
        proj = os.path.join(tmp, "proj")
        src = os.path.join(proj, "src")
        names = ["d%02d/f%04d.txt" % (i % 30, i) for i in range(FILES)]
        for n in names:
            os.makedirs(os.path.join(src, os.path.dirname(n)), exist_ok=True)
            with open(os.path.join(src, n), "wb") as f:
                f.write(b"initial %s\n" % n.encode())
        with open(os.path.join(src, "app.py"), "w") as f:
            f.write("def handler(event, context):\n    return 1\n")
        with open(os.path.join(proj, "lambdeck.json"), "w") as f:
            json.dump({"functions": {"Fn": {"runtime": "python3.12", "handler": "app.handler",
                                            "code": "src"}}}, f)

        # the writer: rewrites random files in place (truncate, then two writes: a reader
        # can see a torn file) with a new length each time, until the build is over
        stop = threading.Event()
        rewrites = [0]

        def writer():
            rnd = random.Random(21)
            while not stop.is_set():
                n = rnd.choice(names)
                rewrites[0] += 1
                body = (b"rewrite %d of %s\n" % (rewrites[0], n.encode())) * rnd.randint(1, 40)
                with open(os.path.join(src, n), "wb") as f:
                    f.write(body[: len(body) // 2])
                    f.flush()
                    f.write(body[len(body) // 2:])

        t = threading.Thread(target=writer)
        t.start()
        try:
            rc, out, err = run(["build", "--full", "--json", "Fn"], proj, timeout=240)
        finally:
            stop.set()
            t.join()
        if rc != 0:
            fail("build --full with a writer: rc=%d" % rc, out + err)
        if rewrites[0] < 20:
            fail("the writer hardly ran during the build (%d rewrites)" % rewrites[0])
        man, zipped = manifest_entries(proj), zip_entries(proj)
        if sorted(man) != sorted(zipped):
            fail("manifest and zip list different entries")
        bad = [n for n in zipped
               if hashlib.sha256(zipped[n]).hexdigest() != man[n][1] or len(zipped[n]) != man[n][0]]
        if bad:
            fail("%d of %d zip entries differ from the manifest's hash/size, e.g. %s"
                 % (len(bad), len(zipped), bad[:3]))
        print("ok: every zip entry matches the manifest after a build with a writer "
              "(%d rewrites during it)" % rewrites[0])

        # the writer has stopped: the next build must package exactly what is on disk
        rc, out, err = run(["build", "--json", "Fn"], proj, timeout=240)
        if rc != 0:
            fail("following build: rc=%d" % rc, out + err)
        zipped = zip_entries(proj)
        stale = [n for n in names if zipped.get(n) != open(os.path.join(src, n), "rb").read()]
        if stale:
            fail("the following build left %d stale entries (outcome %s), e.g. %s"
                 % (len(stale), json.loads(out)[0]["outcome"], stale[:3]))
        man = manifest_entries(proj)
        bad = [n for n in zipped if hashlib.sha256(zipped[n]).hexdigest() != man[n][1]]
        if bad:
            fail("after the following build %d entries differ from the manifest" % len(bad))
        print("ok: the following build packages the latest content")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
