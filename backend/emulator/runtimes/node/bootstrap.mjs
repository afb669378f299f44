// lambdeck node runtime shim: a Lambda Runtime API client using only node built-ins.
// Resolves _HANDLER ("file.export", "dir/file.export") in LAMBDA_TASK_ROOT like AWS's
// runtime: .mjs and "type": "module" packages are imported as ES modules, .cjs and other
// .js files are required (falling back to import when they turn out to be ES modules).
// Handlers may be async, return a promise, or take (event, context, callback).
// Like AWS's managed runtimes it provides the `awslambda` global (streamifyResponse,
// HttpResponseStream; the stream is buffered into the invoke's response) and, for
// nodejs18.x and later, the AWS SDK v3: `@aws-sdk/*` packages the function's own
// node_modules lack resolve from lambdeck's cache (NODE_PATH for require, a resolve hook for
// import), installed there with npm the first time a handler imports one.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import Module, { createRequire, register } from "node:module";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const PREFIX = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1, noDelay: true });
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();
// lambdeck's own variables: read once, hidden from the function's code.
const RUNTIME_NOTE = process.env._LAMBDECK_RUNTIME_NOTE;
const CACHE_DIR = process.env._LAMBDECK_CACHE_DIR;
let NPM_ENV = {};
try { NPM_ENV = JSON.parse(process.env._LAMBDECK_NPM_ENV || "{}"); } catch {}
delete process.env._LAMBDECK_RUNTIME_NOTE;
delete process.env._LAMBDECK_CACHE_DIR;
delete process.env._LAMBDECK_NPM_ENV;
const DECLARED_MAJOR = Number((/nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV || "") || [])[1] || 0);
const SDK_DIR = CACHE_DIR && DECLARED_MAJOR >= 18 ? path.join(CACHE_DIR, "aws-sdk-v3") : null;

// ---- the AWS SDK v3 of the nodejs18.x+ runtimes ----

// Makes @aws-sdk/* resolvable from SDK_DIR after the function's own node_modules (the
// project's copy wins): NODE_PATH for CommonJS, a resolve hook for ES modules. Only for a
// function that needs it: the hook's loader thread costs every cold start a little.
let sdkProvided = false;
function provideSdk() {
  if (!SDK_DIR || sdkProvided) return;
  sdkProvided = true;
  const nm = path.join(SDK_DIR, "node_modules");
  process.env.NODE_PATH = process.env.NODE_PATH ? `${process.env.NODE_PATH}${path.delimiter}${nm}` : nm;
  Module._initPaths();
  if (typeof register === "function") {
    register(new URL("./sdk-resolve.mjs", import.meta.url).href, { data: { sdkDir: SDK_DIR } });
  }
}

// The @aws-sdk/* package a module-not-found error names, or null.
function missingSdkPackage(e) {
  if (!e || (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "MODULE_NOT_FOUND")) return null;
  const m = /['"](@aws-sdk\/[a-z0-9._-]+)(?:\/[^'"]*)?['"]/.exec(String(e.message));
  return m ? m[1] : null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// True when the function has its own copy of pkg (node_modules from dir upwards).
function ownCopy(pkg, dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "node_modules", pkg, "package.json"))) return true;
    if (d === path.dirname(d)) return false;
  }
}

const inCache = (pkg) => fs.existsSync(path.join(SDK_DIR, "node_modules", pkg, "package.json"));

// The @aws-sdk/* packages the function's sources import (import/require/import() of a
// string literal) without shipping them. The sources are read once, at init, bounded
// (node_modules skipped, 2000 files, 1 MB each); ESM caches a failed resolution, so
// installing before the first import is what makes it work.
function sdkImportsNotShipped() {
  const found = new Set();
  const re = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](@aws-sdk\/[a-z0-9._-]+)(?:\/[^"']*)?["']/g;
  const pending = [TASK_ROOT];
  let files = 0;
  while (pending.length && files < 2000) {
    const dir = pending.pop();
    let entries = [];
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && !e.name.startsWith(".")) pending.push(p);
      } else if (/\.(m|c)?js$/.test(e.name) && files++ < 2000) {
        try {
          if (fs.statSync(p).size > 1 << 20) continue;
          for (const m of fs.readFileSync(p, "utf8").matchAll(re)) found.add(m[1]);
        } catch {}
      }
    }
  }
  return [...found].filter((pkg) => !ownCopy(pkg, TASK_ROOT)).sort();
}

// Installs pkgs into SDK_DIR with npm, once for every worker and project: one install at a
// time (a lock directory), npm in its own session writing to a log file, so that it finishes
// even if this worker is stopped, and the next worker finds the packages in place.
async function installSdkPackages(pkgs) {
  // a one-time install is not the function's init time (lambdeck's own Runtime API call)
  await request("POST", "/init/extend", JSON.stringify({ ms: 300000 }), { "Content-Type": "application/json" }).catch(() => {});
  fs.mkdirSync(SDK_DIR, { recursive: true });
  const lock = path.join(SDK_DIR, ".lock");
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      let owner = 0;
      try { owner = Number(fs.readFileSync(path.join(lock, "pid"), "utf8")); } catch {}
      let alive = false;
      try { if (owner) { process.kill(owner, 0); alive = true; } } catch {}
      if (!alive) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await sleep(200); // another worker installs: its packages may be ours too
      pkgs = pkgs.filter((p) => !inCache(p));
      if (!pkgs.length) return;
    }
  }
  try {
    const pjPath = path.join(SDK_DIR, "package.json");
    let pj = { private: true, description: "lambdeck: the AWS SDK v3 of the Node.js runtimes", dependencies: {} };
    try { pj = JSON.parse(fs.readFileSync(pjPath, "utf8")); } catch {}
    pj.dependencies = { ...(pj.dependencies || {}) };
    for (const p of pkgs) pj.dependencies[p] = pj.dependencies[p] || "*";
    const tmp = `${pjPath}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(pj, null, 2) + "\n");
    fs.renameSync(tmp, pjPath);
    process.stdout.write(`lambdeck: installing ${pkgs.join(" ")} (the AWS SDK v3 that AWS's nodejs runtimes include) into ${SDK_DIR}\n`);
    // npm writes to a file, not to us: it outlives this worker if the worker is stopped
    const logPath = path.join(SDK_DIR, "install.log");
    const log = fs.openSync(logPath, "w");
    const code = await new Promise((resolve) => {
      const child = spawn("npm", ["install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", SDK_DIR],
        { cwd: SDK_DIR, detached: true, stdio: ["ignore", log, log], env: { ...process.env, ...NPM_ENV } });
      child.on("error", (e) => { fs.appendFileSync(logPath, `${e.message}\n`); resolve(-1); });
      child.on("exit", (c) => resolve(c));
    });
    fs.closeSync(log);
    if (code !== 0) {
      const tail = fs.readFileSync(logPath, "utf8").trim().split("\n").slice(-6).join("\r");
      process.stdout.write(`lambdeck: npm install ${pkgs.join(" ")} failed (${logPath}): ${tail}\n`);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

// ---- the awslambda global: response streaming ----

const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_PRELUDE = "application/vnd.awslambda.http-integration-response";

class ResponseStream extends Writable {
  constructor() {
    super();
    this.chunks = [];
    this.contentType = "application/octet-stream";
  }
  _write(chunk, enc, cb) {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, enc));
    cb();
  }
  setContentType(type) {
    this.contentType = type;
  }
  // The buffered response: a stream made by HttpResponseStream.from becomes the
  // {statusCode, headers, cookies, body} result a buffered HTTP handler returns.
  result() {
    const all = Buffer.concat(this.chunks);
    if (this.contentType === HTTP_PRELUDE) {
      const sep = all.indexOf(Buffer.alloc(8));
      if (sep >= 0) {
        let prelude = {};
        try { prelude = JSON.parse(all.subarray(0, sep).toString("utf8")); } catch {}
        return { body: Buffer.from(JSON.stringify({ ...prelude, body: all.subarray(sep + 8).toString("utf8") })), type: "application/json" };
      }
    }
    return { body: all, type: this.contentType };
  }
}

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    handler[STREAMING] = "response";
    handler.streamingOptions = options;
    return handler;
  },
  HttpResponseStream: class HttpResponseStream {
    static from(stream, prelude) {
      stream.setContentType(HTTP_PRELUDE);
      stream.write(JSON.stringify(prelude || {}));
      stream.write(Buffer.alloc(8));
      return stream;
    }
  },
};

// Runs a streamify'd handler; resolves with the buffered response once the stream ended.
async function runStreamingHandler(handler, event, ctx) {
  const stream = new ResponseStream();
  const ended = new Promise((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  await handler(event, stream, ctx);
  if (!stream.writableEnded) stream.end();
  await ended;
  return stream.result();
}

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
  const installed = new Set();
  if (SDK_DIR) {
    const needed = sdkImportsNotShipped();
    const missing = needed.filter((p) => !inCache(p));
    if (needed.length) provideSdk();
    if (missing.length) {
      missing.forEach((p) => installed.add(p));
      await installSdkPackages(missing);
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const esm = file.endsWith(".mjs") || (file.endsWith(".js") && isModulePackage(path.dirname(file)));
      // a retry after an install needs a fresh module record: ESM caches the failure
      const url = pathToFileURL(file).href + (attempt ? `?lambdeck-retry=${attempt}` : "");
      if (esm) {
        mod = await import(url);
      } else {
        try {
          mod = createRequire(file)(file);
        } catch (e) {
          if (e && e.code === "ERR_REQUIRE_ESM") mod = await import(url);
          else throw e;
        }
      }
      break;
    } catch (e) {
      if (e instanceof SyntaxError) throw new UserCodeError("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
      const pkg = SDK_DIR ? missingSdkPackage(e) : null;
      if (pkg && !installed.has(pkg)) {
        installed.add(pkg);
        provideSdk();
        if (!inCache(pkg)) await installSdkPackages([pkg]);
        continue;
      }
      if (e && (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND")) {
        const hint = pkg ? ` (lambdeck could not install ${pkg} into ${SDK_DIR}: see the lines above)`
          : /['"]aws-sdk['"]/.test(e.message) ? " (the AWS SDK v2 is not provided locally: add aws-sdk to package.json)" : "";
        throw new UserCodeError("Runtime.ImportModuleError", `Error: ${e.message}${hint}`);
      }
      throw e;
    }
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
  if (RUNTIME_NOTE) process.stdout.write(`lambdeck: ${RUNTIME_NOTE}\n`);
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
      if (handler[STREAMING] === "response") {
        const streamed = await runStreamingHandler(handler, event, makeContext(res.headers));
        await request("POST", `/invocation/${id}/response`, streamed.body, { "Content-Type": streamed.type });
        continue;
      }
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
