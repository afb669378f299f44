// sdk_lambda.mjs - drives the AWS SDK for JavaScript v3 Lambda client for the conformance
// suite (tests/integration/emulator_conformance.py). Reads one JSON request a line on stdin:
//   {"op": "CreateFunction", "input": {...}}   (blobs as {"$b64": "..."})
// and answers one JSON line: {"ok": true, "out": {...}} (blobs as {"$b64": "..."}) or
// {"ok": false, "name": ..., "status": ..., "message": ...}.
// Usage: node sdk_lambda.mjs SDK_DIR ENDPOINT REGION ACCESS_KEY SECRET_KEY
import { createRequire } from "node:module";
import * as readline from "node:readline";
import * as path from "node:path";

const [sdkDir, endpoint, region, accessKeyId, secretAccessKey] = process.argv.slice(2);
const require = createRequire(path.join(sdkDir, "package.json"));
const sdk = require("@aws-sdk/client-lambda");
const client = new sdk.LambdaClient({
  endpoint,
  region,
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 1,
});

function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === "object") {
    if (typeof v.$b64 === "string") return Buffer.from(v.$b64, "base64");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function encode(v) {
  if (v instanceof Uint8Array) return { $b64: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v).filter(([k]) => k !== "$metadata").map(([k, x]) => [k, encode(x)]));
  }
  return v;
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const { op, input } = JSON.parse(line);
  let reply;
  const Command = sdk[op + "Command"];
  if (!Command) {
    reply = { ok: false, name: "ClientUnsupported", status: 0, message: `no ${op}Command in the SDK` };
  } else {
    try {
      const out = await client.send(new Command(decode(input)));
      reply = { ok: true, out: encode(out), status: out.$metadata.httpStatusCode };
    } catch (e) {
      reply = { ok: false, name: e.name, status: e.$metadata ? e.$metadata.httpStatusCode : 0,
                message: String(e.message) };
    }
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
