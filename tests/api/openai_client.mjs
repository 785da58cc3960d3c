// test_api_clients, the Node half: the official OpenAI library (npm package "openai") against a
// running `meswitch serve` with the demo pack installed.
//
// usage: node openai_client.mjs BASE_URL NODE_DIR PACK_DIR [PROMPT EXPECT]
//   BASE_URL  the server's base URL as printed by `meswitch serve` (http://HOST:PORT/v1)
//   NODE_DIR  the folder holding node_modules/openai (test_api_clients.sh installs it there)
//   PACK_DIR  the demo pack (pack.json names the base and the experts)
//   PROMPT    a prompt the pack's arithmetic expert answers; EXPECT, a text its answer holds
//             (default: the "What is 17+25?" and "42")
// Prints one PASS line per check; on the first failure, a FAIL line and exit status 1.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [baseURL, nodeDir, packDir, promptArg, expectArg] = process.argv.slice(2);
if (!baseURL || !nodeDir || !packDir) {
  console.error("usage: node openai_client.mjs BASE_URL NODE_DIR PACK_DIR [PROMPT EXPECT]");
  process.exit(2);
}
const prompt = promptArg ?? "What is 17+25?";
const expect = expectArg ?? "42";

const require = createRequire(path.join(path.resolve(nodeDir), "package.json"));
const { OpenAI, NotFoundError } = require("openai");
const version = JSON.parse(
  readFileSync(path.join(nodeDir, "node_modules", "openai", "package.json"), "utf8")).version;

class CheckFailed extends Error {}
function check(cond, what, detail = "") {
  if (!cond) throw new CheckFailed(what + (detail ? ": " + detail : ""));
}
const show = (v) => JSON.stringify(v);
const positiveInt = (v) => Number.isInteger(v) && v > 0;

const pack = JSON.parse(readFileSync(path.join(packDir, "pack.json"), "utf8"));
const baseName = pack.base.name;
const expertNames = pack.experts.map((e) => e.name);
const arithmetic = pack.experts.find((e) => e.domain === "arithmetic")?.name;

async function main() {
  check(arithmetic, "pack.json names an expert of the domain arithmetic");
  console.log(`openai_client: openai ${version} (node ${process.version}) against ${baseURL}`);
  const client = new OpenAI({ baseURL, apiKey: "sk-meswitch-test", maxRetries: 0, timeout: 60000 });

  // GET /v1/models
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  for (const want of ["auto", baseName, ...expertNames])
    check(ids.includes(want), `models.list() includes ${show(want)}`, `got ${show(ids)}`);
  console.log(`PASS node models.list(): ${ids.join(", ")}`);

  // POST /v1/chat/completions, not streamed
  const request = {
    model: "auto",
    messages: [{ role: "user", content: prompt }],
    temperature: 0,
    max_tokens: 16,
  };
  const r = await client.chat.completions.create(request);
  check(r.object === "chat.completion", "object is chat.completion", show(r.object));
  check(r.model === arithmetic, `model "auto" is answered by ${arithmetic}`,
        `model ${show(r.model)}, meswitch ${show(r.meswitch)}`);
  check(r.meswitch?.expert === arithmetic, `meswitch.expert is ${arithmetic}`, show(r.meswitch));
  check(typeof r.meswitch?.confidence === "number", "meswitch.confidence is a number",
        show(r.meswitch));
  check(Array.isArray(r.meswitch?.alternatives), "meswitch.alternatives is an array",
        show(r.meswitch));
  check(r.choices?.length === 1, "one choice", show(r.choices));
  const text = r.choices[0].message?.content;
  check(r.choices[0].message?.role === "assistant", "the message's role is assistant",
        show(r.choices[0].message));
  check(typeof text === "string" && text.includes(expect),
        `the answer to ${show(prompt)} holds ${show(expect)}`, `answer ${show(text)}`);
  const finish = r.choices[0].finish_reason;
  check(finish === "stop" || finish === "length", "finish_reason is stop or length", show(finish));
  const u = r.usage;
  check(u && positiveInt(u.prompt_tokens) && positiveInt(u.completion_tokens),
        "usage.prompt_tokens and usage.completion_tokens are positive integers", show(u));
  check(u.total_tokens === u.prompt_tokens + u.completion_tokens,
        "usage.total_tokens is their sum", show(u));
  check(u.completion_tokens <= request.max_tokens, "completion_tokens <= max_tokens", show(u));
  console.log(`PASS node chat.completions.create(): ${r.model} answered ${show(text)} ` +
              `(finish ${finish}, usage ${u.prompt_tokens}+${u.completion_tokens}, ` +
              `confidence ${r.meswitch.confidence})`);

  // the same, streamed (with the usage chunk)
  const stream = await client.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  let streamed = "", chunks = 0, role = null, lastFinish = null, usage = null;
  const models = new Set();
  for await (const c of stream) {
    chunks++;
    check(c.object === "chat.completion.chunk", "chunk object is chat.completion.chunk",
          show(c));
    models.add(c.model);
    if (c.usage) usage = c.usage;
    if (!c.choices?.length) continue;
    const d = c.choices[0].delta ?? {};
    if (chunks === 1) role = d.role;
    if (typeof d.content === "string") streamed += d.content;
    if (c.choices[0].finish_reason) lastFinish = c.choices[0].finish_reason;
  }
  check(role === "assistant", "the first delta names the role assistant", show(role));
  check(models.size === 1 && models.has(arithmetic), `every chunk's model is ${arithmetic}`,
        show([...models]));
  check(streamed.includes(expect), `the streamed answer holds ${show(expect)}`, show(streamed));
  check(streamed === text, "the streamed answer equals the non-streamed one",
        `streamed ${show(streamed)}, not streamed ${show(text)}`);
  check(lastFinish === finish, "the streamed finish_reason equals the non-streamed one",
        `${show(lastFinish)} vs ${show(finish)}`);
  check(usage && positiveInt(usage.prompt_tokens) && positiveInt(usage.completion_tokens),
        "the usage chunk's prompt_tokens and completion_tokens are positive integers",
        show(usage));
  check(usage.prompt_tokens === u.prompt_tokens && usage.completion_tokens === u.completion_tokens,
        "the streamed usage equals the non-streamed one", `${show(usage)} vs ${show(u)}`);
  console.log(`PASS node chat.completions.create({stream: true}): ${chunks} chunks, ` +
              `${show(streamed)}`);

  // an unknown model: 404, surfaced as the library's NotFoundError
  let error = null;
  try {
    await client.chat.completions.create({ ...request, model: "no-such-model" });
  } catch (e) {
    error = e;
  }
  check(error instanceof NotFoundError, "an unknown model throws NotFoundError",
        error ? `${error.constructor?.name}: ${error.message}` : "no error thrown");
  check(error.status === 404, "its status is 404", show(error.status));
  console.log(`PASS node unknown model: NotFoundError (${error.message})`);
}

try {
  await main();
  console.log("PASS node: every check of the OpenAI library passed");
} catch (e) {
  if (e instanceof CheckFailed) console.log(`FAIL node: ${e.message}`);
  else console.log(`FAIL node: unexpected error: ${e?.stack ?? e}`);
  process.exit(1);
}
