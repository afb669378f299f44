// lambdeck node runtime shim: a Lambda Runtime API client using only node built-ins.
// Resolves _HANDLER ("file.export", "dir/file.export") in LAMBDA_TASK_ROOT like AWS's
// runtime: .mjs and "type": "module" packages are imported as ES modules, .cjs and other
// .js files are required (falling back to import when they turn out to be ES modules).
// Handlers may be async, return a promise, or take (event, context, callback).
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const PREFIX = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1, noDelay: true });
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: Number(PORT), method, path: PREFIX + p, agent, headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      }
    );
    req.on("error", reject);
    req.setNoDelay(true);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

// console.* like AWS: "<time>\t<request id>\t<LEVEL>\t<message>", one write per call.
let currentRequestId = undefined;
function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [fn, level] of Object.entries(levels)) {
    console[fn] = (...args) => {
      const line = `${new Date().toISOString()}\t${currentRequestId ?? "undefined"}\t${level}\t${format(...args)}`;
      process.stdout.write(line.replace(/\n/g, "\r") + "\n");
    };
  }
}

function errorObject(err) {
  if (err instanceof Error) {
    const trace = (err.stack || "").split("\n");
    return { errorType: err.name || "Error", errorMessage: err.message, trace, stackTrace: trace };
  }
  return { errorType: typeof err === "object" && err ? "object" : "string",
           errorMessage: typeof err === "string" ? err : JSON.stringify(err), trace: [], stackTrace: [] };
}

class UserCodeError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

function isModulePackage(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const pj = path.join(d, "package.json");
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    if (d === TASK_ROOT || d === path.dirname(d)) return false;
  }
}

async function loadHandler(spec) {
  const dot = spec.lastIndexOf(".");
  if (dot <= 0) throw new UserCodeError("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  const modPath = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1);
  const base = path.resolve(TASK_ROOT, modPath);
  let file = null;
  for (const ext of [".js", ".mjs", ".cjs", ""]) {
    if (fs.existsSync(base + ext) && fs.statSync(base + ext).isFile()) {
      file = base + ext;
      break;
    }
  }
  if (!file) {
    throw new UserCodeError("Runtime.ImportModuleError",
      `Error: Cannot find module '${modPath}'\nRequire stack:\n- ${TASK_ROOT}`);
  }
  let mod;
  try {
    const esm = file.endsWith(".mjs") || (file.endsWith(".js") && isModulePackage(path.dirname(file)));
    if (esm) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = createRequire(file)(file);
      } catch (e) {
        if (e && e.code === "ERR_REQUIRE_ESM") mod = await import(pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    throw e;
  }
  let fn = mod;
  for (const part of exportPath.split(".")) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const part of exportPath.split(".")) fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== "function") {
    throw new UserCodeError("Runtime.HandlerNotFound", `${path.basename(modPath)}.${exportPath} is undefined or not exported`);
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const cc = headers["lambda-runtime-client-context"];
  const ctx = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: cc ? JSON.parse(cc) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  return ctx;
}

// Runs the handler, whichever style it uses; resolves with the result, rejects with the error.
function runHandler(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, result) => {
      if (done) return;
      done = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(result);
    };
    ctx.done = finish;
    ctx.succeed = (r) => finish(null, r);
    ctx.fail = (e) => finish(e ?? new Error("handled"));
    try {
      const r = handler(event, ctx, finish);
      if (r && typeof r.then === "function") r.then((v) => finish(null, v), (e) => finish(e ?? new Error("rejected")));
      else if (handler.length < 3) finish(null, r);
    } catch (e) {
      finish(e);
    }
  });
}

async function postError(id, err, logIt = true) {
  const obj = errorObject(err);
  if (logIt) {
    process.stdout.write(`${new Date().toISOString()}\t${id}\tERROR\tInvoke Error \t${JSON.stringify(obj)}\n`);
  }
  const body = JSON.stringify(obj);
  await request("POST", `/invocation/${id}/error`, body,
    { "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": obj.errorType });
}

async function main() {
  patchConsole();
  let handler = null;
  let initError = null;
  try {
    handler = await loadHandler(process.env._HANDLER || "");
  } catch (e) {
    initError = e;
    const obj = errorObject(e);
    process.stdout.write(`${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(obj)}\n`);
  }
  process.on("uncaughtException", async (e) => {
    if (currentRequestId) await postError(currentRequestId, e).catch(() => {});
    process.exit(129);
  });
  process.on("unhandledRejection", async (e) => {
    if (currentRequestId) await postError(currentRequestId, e).catch(() => {});
    process.exit(128);
  });
  for (;;) {
    const { res, body } = await request("GET", "/invocation/next");
    if (res.statusCode !== 200) {
      process.stderr.write(`lambdeck runtime: invocation/next returned ${res.statusCode}\n`);
      process.exit(1);
    }
    const id = res.headers["lambda-runtime-aws-request-id"];
    currentRequestId = id;
    if (res.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = res.headers["lambda-runtime-trace-id"];
    if (initError) {
      await postError(id, initError, false);
      continue;
    }
    let result;
    try {
      const event = body.length ? JSON.parse(body.toString("utf8")) : {};
      result = await runHandler(handler, event, makeContext(res.headers));
    } catch (e) {
      await postError(id, e);
      continue;
    }
    let out;
    try {
      out = result === undefined ? "null" : JSON.stringify(result);
    } catch (e) {
      await postError(id, new UserCodeError("Runtime.MarshalError", `Unable to stringify response body: ${e.message}`));
      continue;
    }
    await request("POST", `/invocation/${id}/response`, out, { "Content-Type": "application/json" });
  }
}

main().catch((e) => {
  process.stderr.write(`lambdeck runtime: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
