#!/usr/bin/env node
// A scripted model server for the tests: speaks OpenAI Chat Completions,
// Anthropic Messages and Bedrock Converse on 127.0.0.1, checks that each
// request is well formed (Bedrock: recomputes the SigV4 signature with
// @smithy/signature-v4, an implementation independent of ours, and answers
// 403 as AWS does to a wrong one), answers from a script, and injects faults
// on demand.
//
//   node spec/support/model_server.mjs [--port N] [--script FILE] [--log FILE]
//                                      [--config FILE] [--stdin-eof-exits]
//                                      [--exit-with-pid PID]
//
// Prints "listening http://127.0.0.1:PORT" on stdout once it listens (port 0,
// the default, picks a free one). Stops on SIGTERM/SIGINT, and with
// --stdin-eof-exits when its stdin closes (a test that dies, closing its end
// of a pipe, then takes the server along), or with --exit-with-pid once
// that process is gone (checked every 500 ms: for a parent whose stdin is
// not a pipe it owns, such as a busted run).
//
// Endpoints (the path prefix before these is free, as base URLs differ):
//   POST .../chat/completions      OpenAI-compatible (also llama.cpp, vLLM, Ollama)
//   POST .../v1/messages           Anthropic Messages
//   POST /model/{modelId}/converse Bedrock Converse (SigV4, service "bedrock")
//   POST /model/{modelId}/invoke   Bedrock InvokeModel (SigV4): the body is the
//                                  model's native one, checked and answered
//                                  in Anthropic Messages form for anthropic.*
//                                  ids (anthropic_version
//                                  "bedrock-2023-05-31", no "model" member),
//                                  in Chat Completions form for openai.* ids;
//                                  other models need "raw" steps
//
// Control API (JSON in, JSON out):
//   POST /_control/reset     clear the script and the request log; the body
//                            may hold a new config (below)
//   POST /_control/config    {"api_key": "...", "anthropic_key": "...",
//                             "aws": {"access_key_id", "secret_access_key",
//                             "session_token", "region"}}: credentials the
//                            server demands (unset: not checked, except that
//                            Bedrock always needs aws)
//   POST /_control/enqueue   a step or a list of steps, appended to the script
//   GET  /_control/requests  the requests received so far, oldest first:
//                            [{provider, method, path, headers, body, problem,
//                              signature, step, remote_port}] (problem: why
//                            the request was refused, or null; signature:
//                            "ok"/"bad" for Bedrock; remote_port: the
//                            client's port, equal across requests when a
//                            connection was kept alive)
// --script FILE preloads the script (a JSON list of steps); --log FILE
// appends each received request as one JSON line; --config FILE preloads
// the config: enough for a test with no HTTP client of its own.
//
// A step is consumed by each model request, in order:
//   {"turn": {"text": "...", "tool_calls": [{"id", "name", "arguments": {...}}],
//             "stop": "end_turn"|"tool_use"|"max_tokens"|"stop_sequence"|...,
//             "usage": {"input", "output", "cache_read", "cache_write"}},
//    "delay_ms": N}                       N ms before the first byte (slow)
//   {"fault": "status", "status": 429|500|503|529|..., "message": "...",
//    "headers": {"Retry-After": "2"}}      an error in the provider's shape
//   {"fault": "malformed"}                 200 with a body that is not JSON
//   {"fault": "truncated"}                 200, Content-Length promises more
//                                          than is sent, then the socket closes
//   {"fault": "drop"}                      the socket closes, no response
//   {"raw": {"status": 200, "headers": {...}, "body": "..."}}  verbatim
// With the script empty, the answer is a 500 naming the fact (a test never
// passes on a default answer). A request that is malformed gets the
// provider's 400 (Bedrock: 403 for a bad signature) and consumes no step.
import http from "node:http";
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { SignatureV4 } = require("@smithy/signature-v4");
const { Sha256 } = require("@aws-crypto/sha256-js");

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

let script = [];
let requests = [];
let config = {};
const logFile = opt("--log", null);
if (opt("--script", null)) script = [].concat(JSON.parse(fs.readFileSync(opt("--script"), "utf8")));
if (opt("--config", null)) config = JSON.parse(fs.readFileSync(opt("--config"), "utf8"));

// {====== wire formats

const OPENAI_FINISH = { end_turn: "stop", tool_use: "tool_calls", max_tokens: "length",
                        stop_sequence: "stop", content_filter: "content_filter" };

function usageOf(turn) {
  const u = turn.usage || {};
  return { input: u.input ?? 10, output: u.output ?? 5, cache_read: u.cache_read ?? 0,
           cache_write: u.cache_write ?? 0 };
}

function stopOf(turn) {
  return turn.stop || ((turn.tool_calls || []).length ? "tool_use" : "end_turn");
}

const format = {
  openai(turn, model) {
    const u = usageOf(turn), calls = turn.tool_calls || [];
    const message = { role: "assistant", content: turn.text ?? null };
    if (calls.length)
      message.tool_calls = calls.map((c) => ({ id: c.id, type: "function",
        function: { name: c.name, arguments: typeof c.arguments === "string" ? c.arguments
                                                 : JSON.stringify(c.arguments ?? {}) } }));
    return { id: "chatcmpl-test", object: "chat.completion", created: 1764720000, model,
             choices: [{ index: 0, message, finish_reason: OPENAI_FINISH[stopOf(turn)] ?? stopOf(turn),
                         logprobs: null }],
             usage: { prompt_tokens: u.input + u.cache_read, completion_tokens: u.output,
                      total_tokens: u.input + u.cache_read + u.output,
                      prompt_tokens_details: { cached_tokens: u.cache_read } } };
  },
  anthropic(turn, model) {
    const u = usageOf(turn), content = [];
    if (turn.text != null) content.push({ type: "text", text: turn.text });
    for (const c of turn.tool_calls || [])
      content.push({ type: "tool_use", id: c.id, name: c.name, input: c.arguments ?? {} });
    return { id: "msg_test", type: "message", role: "assistant", model, content,
             stop_reason: stopOf(turn), stop_sequence: null,
             usage: { input_tokens: u.input, output_tokens: u.output,
                      cache_creation_input_tokens: u.cache_write,
                      cache_read_input_tokens: u.cache_read } };
  },
  bedrock(turn) {
    const u = usageOf(turn), content = [];
    if (turn.text != null) content.push({ text: turn.text });
    for (const c of turn.tool_calls || [])
      content.push({ toolUse: { toolUseId: c.id, name: c.name, input: c.arguments ?? {} } });
    const usage = { inputTokens: u.input, outputTokens: u.output,
                    totalTokens: u.input + u.output + u.cache_read + u.cache_write };
    if (u.cache_read) usage.cacheReadInputTokens = u.cache_read;
    if (u.cache_write) usage.cacheWriteInputTokens = u.cache_write;
    return { output: { message: { role: "assistant", content } }, stopReason: stopOf(turn),
             usage, metrics: { latencyMs: 12 } };
  },
};

const ANTHROPIC_TYPES = { 400: "invalid_request_error", 401: "authentication_error",
  403: "permission_error", 404: "not_found_error", 413: "request_too_large",
  429: "rate_limit_error", 500: "api_error", 503: "api_error", 529: "overloaded_error" };
const BEDROCK_TYPES = { 400: "ValidationException", 403: "AccessDeniedException",
  404: "ResourceNotFoundException", 408: "ModelTimeoutException", 424: "ModelErrorException",
  429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException",
  529: "ServiceUnavailableException" };

// An error in the provider's own shape: [status, headers, body object].
function errorOf(provider, status, message, headers = {}, type = null) {
  if (provider === "openai")
    return [status, headers, { error: { message, type: type || (status === 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error"),
                                        param: null, code: status === 429 ? "rate_limit_exceeded" : null } }];
  if (provider === "anthropic")
    return [status, headers, { type: "error", error: { type: type || ANTHROPIC_TYPES[status] || "api_error", message },
                               request_id: "req_test" }];
  const t = type || BEDROCK_TYPES[status] || "InternalServerException";
  return [status, { "x-amzn-ErrorType": `${t}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
                    "x-amzn-RequestId": "00000000-test-4000-8000-000000000000", ...headers },
          { message }];
}

// }======

// {====== checks: a problem string, or null when the request is well formed

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isStr = (v) => typeof v === "string";

function checkTools(tools, shape) {
  if (tools === undefined) return null;
  if (!Array.isArray(tools)) return "tools must be an array";
  for (const [i, t] of tools.entries()) {
    const spec = shape(t);
    if (!spec || !isStr(spec.name) || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name))
      return `tools[${i}]: a tool needs a name of 1-64 letters, digits, '_' or '-'`;
    if (spec.schema !== undefined && !isObj(spec.schema)) return `tools[${i}]: the schema must be an object`;
  }
  return null;
}

function checkOpenAI(body) {
  if (!isStr(body.model) || !body.model) return "model is required";
  if (!Array.isArray(body.messages) || !body.messages.length) return "messages must be a non-empty array";
  const p = checkTools(body.tools, (t) => t?.type === "function" && isObj(t.function) &&
                                         { name: t.function.name, schema: t.function.parameters });
  if (p) return p;
  const open = new Set();
  for (const [i, m] of body.messages.entries()) {
    if (!isObj(m) || !["system", "developer", "user", "assistant", "tool"].includes(m.role))
      return `messages[${i}]: unknown role`;
    if (m.role === "assistant") {
      if (open.size) return `messages[${i}]: tool calls ${[...open].join(", ")} have no result`;
      for (const c of m.tool_calls || []) {
        if (!isStr(c.id) || c.type !== "function" || !isObj(c.function) || !isStr(c.function.name))
          return `messages[${i}]: malformed tool call`;
        if (!isStr(c.function.arguments)) return `messages[${i}]: tool call arguments must be a JSON string`;
        try { JSON.parse(c.function.arguments); } catch { return `messages[${i}]: tool call arguments are not JSON`; }
        open.add(c.id);
      }
      if (m.content == null && !(m.tool_calls || []).length) return `messages[${i}]: empty assistant message`;
    } else if (m.role === "tool") {
      if (!open.delete(m.tool_call_id)) return `messages[${i}]: tool_call_id ${m.tool_call_id} answers no open tool call`;
      if (!isStr(m.content)) return `messages[${i}]: tool content must be a string`;
    } else {
      if (open.size) return `messages[${i}]: tool calls ${[...open].join(", ")} have no result`;
      if (!isStr(m.content) && !Array.isArray(m.content)) return `messages[${i}]: content must be a string or parts`;
    }
  }
  if (body.max_tokens !== undefined && !(Number.isInteger(body.max_tokens) && body.max_tokens > 0))
    return "max_tokens must be a positive integer";
  return null;
}

// InvokeModel: the native body of the model family the id names (an
// inference profile "us.anthropic...." or a plain "anthropic....").
function invokeFamily(modelId) {
  const id = modelId.replace(/^arn:.*\//, "").replace(/^(us|eu|apac|global)\./, "");
  return id.startsWith("anthropic.") ? "anthropic" : id.startsWith("openai.") ? "openai" : "other";
}

function checkInvoke(body, modelId) {
  const family = invokeFamily(modelId);
  if (family === "anthropic") {
    if (body.anthropic_version !== "bedrock-2023-05-31")
      return 'anthropic_version: must be "bedrock-2023-05-31" on Bedrock';
    if (body.model !== undefined) return "model: Extra inputs are not permitted";
    return checkAnthropic({ ...body, model: modelId });
  }
  if (family === "openai") return checkOpenAI({ ...body, model: body.model ?? modelId });
  return null;
}

function checkAnthropic(body) {
  if (!isStr(body.model) || !body.model) return "model: Field required";
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return "max_tokens: Field required";
  if (body.system !== undefined && !isStr(body.system) && !Array.isArray(body.system)) return "system must be text";
  if (!Array.isArray(body.messages) || !body.messages.length) return "messages: at least one message is required";
  const p = checkTools(body.tools, (t) => isObj(t) && { name: t.name, schema: t.input_schema });
  if (p) return p;
  let open = new Set(), last = null;
  for (const [i, m] of body.messages.entries()) {
    if (!isObj(m) || !["user", "assistant"].includes(m.role)) return `messages.${i}.role: must be user or assistant`;
    if (m.role === last) return `messages.${i}: roles must alternate between "user" and "assistant"`;
    last = m.role;
    const blocks = isStr(m.content) ? [{ type: "text", text: m.content }] : m.content;
    if (!Array.isArray(blocks) || !blocks.length) return `messages.${i}.content: must be text or blocks`;
    if (m.role === "assistant") {
      for (const b of blocks) {
        if (b.type === "tool_use") {
          if (!isStr(b.id) || !isStr(b.name) || !isObj(b.input)) return `messages.${i}: malformed tool_use block`;
          open.add(b.id);
        } else if (b.type !== "text" || !isStr(b.text)) return `messages.${i}: unexpected ${b.type} block`;
      }
    } else {
      let seenText = false;
      for (const b of blocks) {
        if (b.type === "tool_result") {
          if (seenText) return `messages.${i}: tool_result blocks must come before any text`;
          if (!open.delete(b.tool_use_id)) return `messages.${i}: tool_result ${b.tool_use_id} answers no tool_use`;
        } else if (b.type === "text" && isStr(b.text)) seenText = true;
        else return `messages.${i}: unexpected ${b.type} block`;
      }
      if (open.size) return `messages.${i}: tool_use ids were found without tool_result blocks: ${[...open].join(", ")}`;
    }
  }
  if (last !== "user") return "the last message must have the user role";
  return null;
}

function checkBedrock(body) {
  if (!Array.isArray(body.messages) || !body.messages.length) return "messages must not be empty";
  if (body.system !== undefined && (!Array.isArray(body.system) || body.system.some((s) => !isStr(s?.text))))
    return "system must be a list of text blocks";
  if (body.inferenceConfig !== undefined) {
    const mt = body.inferenceConfig.maxTokens;
    if (mt !== undefined && !(Number.isInteger(mt) && mt >= 1)) return "inferenceConfig.maxTokens must be >= 1";
  }
  const tools = body.toolConfig?.tools;
  const p = checkTools(tools, (t) => isObj(t?.toolSpec) && isObj(t.toolSpec.inputSchema) &&
                                     { name: t.toolSpec.name, schema: t.toolSpec.inputSchema.json });
  if (p) return p;
  let open = new Set(), usedTools = false;
  for (const [i, m] of body.messages.entries()) {
    if (!isObj(m) || !["user", "assistant"].includes(m.role)) return `messages.${i}.role must be user or assistant`;
    if (!Array.isArray(m.content) || !m.content.length) return `messages.${i}.content must be a non-empty list`;
    for (const b of m.content) {
      const keys = isObj(b) ? Object.keys(b) : [];
      if (keys.length !== 1) return `messages.${i}: a content block has exactly one member`;
      if (b.toolUse) {
        if (m.role !== "assistant" || !isStr(b.toolUse.toolUseId) || !isStr(b.toolUse.name) || !isObj(b.toolUse.input))
          return `messages.${i}: malformed toolUse`;
        open.add(b.toolUse.toolUseId);
        usedTools = true;
      } else if (b.toolResult) {
        const r = b.toolResult;
        if (!open.delete(r.toolUseId)) return `messages.${i}: toolResult ${r.toolUseId} answers no toolUse`;
        if (!Array.isArray(r.content) || r.content.some((c) => !isObj(c) || (c.text === undefined && c.json === undefined)))
          return `messages.${i}: toolResult content must be text or json blocks`;
        if (r.status !== undefined && !["success", "error"].includes(r.status)) return `messages.${i}: bad toolResult status`;
      } else if (!isStr(b.text)) return `messages.${i}: unsupported content block ${keys[0]}`;
    }
    if (m.role === "user" && open.size) return `messages.${i}: toolUse without toolResult: ${[...open].join(", ")}`;
  }
  if (usedTools && !tools) return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
  return null;
}

// The Bedrock request's signature, recomputed by @smithy/signature-v4 over
// the headers the client says it signed. Returns null when it matches.
async function checkSignature(req, rawPath, query, bodyText) {
  const aws = config.aws;
  if (!aws) return [403, "UnrecognizedClientException", "The model server has no AWS credentials configured."];
  const auth = req.headers["authorization"];
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth || "");
  if (!m) return [403, "MissingAuthenticationTokenException", "Missing Authentication Token"];
  const [, akid, , region, service, signed] = m;
  if (akid !== aws.access_key_id) return [403, "UnrecognizedClientException", "The security token included in the request is invalid."];
  if (aws.session_token && req.headers["x-amz-security-token"] !== aws.session_token)
    return [403, "UnrecognizedClientException", "The security token included in the request is invalid."];
  const names = signed.split(";");
  for (const need of ["host", "x-amz-date"])
    if (!names.includes(need)) return [403, "InvalidSignatureException", `'${need}' must be a signed header.`];
  const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(req.headers["x-amz-date"] || "");
  if (!date) return [403, "IncompleteSignatureException", "Missing or malformed X-Amz-Date."];
  const signingDate = new Date(Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]));
  const headers = {};
  for (const n of names) if (n !== "x-amz-date" && n !== "x-amz-security-token") headers[n] = req.headers[n] ?? "";
  const signer = new SignatureV4({ service: "bedrock", region: aws.region || "us-east-1", sha256: Sha256,
    applyChecksum: false, uriEscapePath: true,
    credentials: { accessKeyId: aws.access_key_id, secretAccessKey: aws.secret_access_key,
                   sessionToken: aws.session_token || undefined } });
  const signedReq = await signer.sign({ method: req.method, protocol: "http:", hostname: "127.0.0.1",
    path: rawPath, query, headers, body: bodyText }, { signingDate });
  if (signedReq.headers.authorization !== auth)
    return [403, "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. " +
            "Check your AWS Secret Access Key and signing method. Consult the service documentation for details." +
            (service !== "bedrock" || region !== (aws.region || "us-east-1") ? ` (scope ${region}/${service})` : "")];
  return null;
}

// }======

function send(res, status, headers, body) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function record(entry) {
  requests.push(entry);
  if (logFile) fs.appendFileSync(logFile, JSON.stringify(entry) + "\n");
}

async function control(req, res, path, bodyText) {
  let body = null;
  if (bodyText) {
    try { body = JSON.parse(bodyText); } catch { return send(res, 400, {}, { error: "control body is not JSON" }); }
  }
  if (path === "/_control/reset") {
    script = []; requests = [];
    if (body) config = body;
    return send(res, 200, {}, { ok: true });
  }
  if (path === "/_control/config") { config = body || {}; return send(res, 200, {}, { ok: true }); }
  if (path === "/_control/enqueue") {
    script.push(...[].concat(body ?? []));
    return send(res, 200, {}, { ok: true, queued: script.length });
  }
  if (path === "/_control/requests") return send(res, 200, {}, requests);
  return send(res, 404, {}, { error: `no control endpoint ${path}` });
}

async function model(req, res, provider, rawPath, query, bodyText, modelId) {
  const entry = { provider, method: req.method, path: rawPath, headers: req.headers, body: null,
                  problem: null, signature: null, step: null, remote_port: req.socket.remotePort };
  let body;
  const reject = (status, message, type) => {
    entry.problem = message;
    record(entry);
    const [s, h, b] = errorOf(provider, status, message, {}, type);
    send(res, s, h, b);
  };
  if (req.method !== "POST") return reject(405, `${req.method} is not allowed here`);
  if (!/^application\/json\b/.test(req.headers["content-type"] || ""))
    return reject(400, "Content-Type must be application/json");
  try { body = JSON.parse(bodyText); } catch (e) { return reject(400, `the body is not JSON: ${e.message}`); }
  entry.body = body;
  if (!isObj(body)) return reject(400, "the body must be a JSON object");

  if (provider === "openai" && config.api_key && req.headers["authorization"] !== `Bearer ${config.api_key}`)
    return reject(401, "Incorrect API key provided.", "invalid_request_error");
  if (provider === "anthropic") {
    if (!req.headers["anthropic-version"]) return reject(400, "anthropic-version: header is required");
    if (config.anthropic_key && req.headers["x-api-key"] !== config.anthropic_key)
      return reject(401, "invalid x-api-key");
  }
  if (provider === "bedrock" || provider === "invoke") {
    const bad = await checkSignature(req, rawPath, query, bodyText);
    entry.signature = bad ? "bad" : "ok";
    if (bad) return reject(bad[0], bad[2], bad[1]);
  }
  const problem = provider === "openai" ? checkOpenAI(body) : provider === "anthropic" ? checkAnthropic(body)
                : provider === "invoke" ? checkInvoke(body, modelId) : checkBedrock(body);
  if (problem) return reject(400, problem);

  const step = script.shift();
  entry.step = step ?? null;
  record(entry);
  if (!step) {
    const [s, h, b] = errorOf(provider, 500, "model server: no scripted response left");
    return send(res, s, h, b);
  }
  const go = () => answer(req, res, provider, step, body.model || modelId, modelId);
  if (step.delay_ms) setTimeout(go, step.delay_ms); else go();
}

function answer(req, res, provider, step, model, modelId) {
  if (provider === "invoke") {  // errors as Bedrock's, bodies as the family's
    const family = invokeFamily(modelId);
    if (step.fault === "status") provider = "bedrock";
    else if (family === "anthropic" || family === "openai") provider = family;
    else if (!step.raw && !step.fault)
      return send(res, 500, {}, { error: `model server: InvokeModel of ${modelId} needs a raw step` });
  }
  if (step.raw) return send(res, step.raw.status ?? 200, step.raw.headers ?? {}, step.raw.body ?? "");
  switch (step.fault) {
    case "status": {
      const [s, h, b] = errorOf(provider, step.status ?? 500, step.message ?? `injected ${step.status}`,
                                step.headers ?? {});
      return send(res, s, h, b);
    }
    case "malformed":
      return send(res, 200, {}, '{"id": "chatcmpl-bad", "choices": [ {"message": ');
    case "truncated": {
      const text = JSON.stringify(format[provider](step.turn || { text: "cut short" }, model));
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.write(text.slice(0, Math.floor(text.length / 2)));
      return setTimeout(() => res.socket?.destroy(), 20);
    }
    case "drop":
      return req.socket.destroy();
    case undefined:
      return send(res, 200, {}, format[provider](step.turn || {}, model));
    default:
      return send(res, 500, {}, { error: `model server: unknown fault ${step.fault}` });
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const bodyText = Buffer.concat(chunks).toString("utf8");
    const q = req.url.indexOf("?");
    const rawPath = q >= 0 ? req.url.slice(0, q) : req.url;
    const query = {};
    if (q >= 0) for (const [k, v] of new URLSearchParams(req.url.slice(q + 1))) query[k] = v;
    let m;
    const run = (p) => p.catch((e) => { if (!res.headersSent) send(res, 500, {}, { error: String(e?.stack || e) }); });
    if (rawPath.startsWith("/_control/")) return run(control(req, res, rawPath, bodyText));
    if (rawPath.endsWith("/chat/completions")) return run(model(req, res, "openai", rawPath, query, bodyText));
    if (rawPath.endsWith("/v1/messages") || rawPath === "/messages")
      return run(model(req, res, "anthropic", rawPath, query, bodyText));
    if ((m = /^\/model\/([^/]+)\/converse$/.exec(rawPath)))
      return run(model(req, res, "bedrock", rawPath, query, bodyText, decodeURIComponent(m[1])));
    if ((m = /^\/model\/([^/]+)\/invoke$/.exec(rawPath)))
      return run(model(req, res, "invoke", rawPath, query, bodyText, decodeURIComponent(m[1])));
    send(res, 404, {}, { error: `model server: no endpoint ${req.method} ${rawPath}` });
  });
});
server.keepAliveTimeout = 30000;

server.listen(Number(opt("--port", "0")), "127.0.0.1", () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
});
const stop = () => { server.close(); server.closeAllConnections?.(); process.exit(0); };
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (opt("--exit-with-pid", null)) {
  const parent = Number(opt("--exit-with-pid"));
  setInterval(() => { try { process.kill(parent, 0); } catch { stop(); } }, 500).unref();
}
if (args.includes("--stdin-eof-exits")) {
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}
