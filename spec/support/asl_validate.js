#!/usr/bin/env node
// Validate many ASL definitions with asl-validator in one go (its CLI gives
// one exit status for all the files it is handed, not a verdict per file).
//
//   node spec/support/asl_validate.js [--cache FILE] NODE_PREFIX FILE...
//
// NODE_PREFIX is the directory given to `npm install --prefix`, the one
// holding node_modules/asl-validator. Prints one JSON object on stdout:
//   {"version": "<asl-validator version>",
//    "results": {"<basename>": {"valid": true|false, "errors": ["<code>: <message>", ...]}}}
// A file that is not JSON counts as invalid (error "parse: ..."); if
// asl-validator throws, "valid" is null (the spec treats that as a failure).
//
// asl-validator is called as its CLI calls it by default: checkPaths
// (JSONPath, reference path, payload template and intrinsic syntax) and
// checkArn (a Task Resource must look like an AWS ARN) both on.
//
// asl-validator builds and compiles its JSON schemas anew for every
// definition (~0.1 s each), so files are spread over worker threads, and
// with --cache results are kept in FILE keyed by asl-validator version and
// the SHA-256 of the file's bytes.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const crypto = require("crypto");
const { Worker, isMainThread, parentPort, workerData } = require("worker_threads");

function loadValidator(prefix) {
  const dir = path.join(path.resolve(prefix), "node_modules", "asl-validator");
  return { validator: require(dir), version: require(path.join(dir, "package.json")).version };
}

function check(validator, text) {
  let definition;
  try {
    definition = JSON.parse(text);
  } catch (e) {
    return { valid: false, errors: ["parse: " + e.message] };
  }
  try {
    const r = validator(definition, { checkPaths: true, checkArn: true });
    return { valid: r.isValid, errors: r.errors.map((e) => `${e["Error code"]}: ${e.Message}`) };
  } catch (e) {
    return { valid: null, errors: ["exception: " + (e && e.message)] };
  }
}

if (!isMainThread) {
  const { validator } = loadValidator(workerData.prefix);
  parentPort.postMessage(workerData.files.map((f) => check(validator, fs.readFileSync(f, "utf8"))));
  return;
}

function usage() {
  process.stderr.write("usage: node asl_validate.js [--cache FILE] NODE_PREFIX FILE...\n");
  process.exit(64);
}

async function main() {
  const args = process.argv.slice(2);
  let cacheFile = null;
  if (args[0] === "--cache") {
    cacheFile = args[1];
    args.splice(0, 2);
    if (!cacheFile) usage();
  }
  const [prefix, ...files] = args;
  if (!prefix || files.length === 0) usage();
  const { version } = loadValidator(prefix);

  let cache = {};
  if (cacheFile && fs.existsSync(cacheFile)) {
    try {
      cache = JSON.parse(fs.readFileSync(cacheFile, "utf8"));
    } catch (e) {
      cache = {};
    }
  }
  const keys = files.map(
    (f) => version + ":" + crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex"));
  const todo = files.map((f, i) => i).filter((i) => !(keys[i] in cache));

  if (todo.length > 0) {
    const n = Math.max(1, Math.min(os.cpus().length, Math.ceil(todo.length / 8)));
    const chunks = Array.from({ length: n }, () => []);
    todo.forEach((i, k) => chunks[k % n].push(i));
    const parts = await Promise.all(chunks.map((chunk) => new Promise((resolve, reject) => {
      const w = new Worker(__filename, { workerData: { prefix, files: chunk.map((i) => files[i]) } });
      w.once("message", (results) => resolve(results.map((r, k) => [chunk[k], r])));
      w.once("error", reject);
    })));
    let changed = false;
    for (const part of parts) {
      for (const [i, r] of part) {
        cache[keys[i]] = r;
        if (r.valid !== null) changed = true;
      }
    }
    if (cacheFile && changed) {
      const keep = {};
      for (const [k, r] of Object.entries(cache)) if (r.valid !== null) keep[k] = r;
      const tmp = cacheFile + "." + process.pid + ".tmp";
      fs.writeFileSync(tmp, JSON.stringify(keep));
      fs.renameSync(tmp, cacheFile);
    }
  }

  const results = {};
  files.forEach((f, i) => { results[path.basename(f)] = cache[keys[i]]; });
  process.stdout.write(JSON.stringify({ version, results }) + "\n");
}

main().catch((e) => {
  process.stderr.write("asl_validate.js: " + (e && e.stack ? e.stack : e) + "\n");
  process.exit(2);
});
