// lambdeck node runtime: module resolve hook (registered by bootstrap.mjs with
// module.register) that resolves `@aws-sdk/*` imports from lambdeck's SDK cache when the
// function's own node_modules do not have them, as AWS's nodejs18.x+ runtimes provide the
// SDK v3 outside the function's code. The project's own copy always wins.
import path from "node:path";
import { pathToFileURL } from "node:url";

let sdkParent = null;

export async function initialize(data) {
  if (data && data.sdkDir) sdkParent = pathToFileURL(path.join(data.sdkDir, "lambdeck-sdk.mjs")).href;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (!sdkParent || !specifier.startsWith("@aws-sdk/") || e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
    try {
      return await nextResolve(specifier, { ...context, parentURL: sdkParent });
    } catch {
      throw e; // not in the cache either: the original error names the importing file
    }
  }
}
