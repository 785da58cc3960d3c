// Renders every template in ../data/templates.json with every conversation in
// ../data/conversations.json (add_generation_prompt true and false) using @huggingface/jinja,
// the renderer transformers.js uses, and writes ../data/expected_<template>.json.
// test_chat_template compares ChatTemplate's output against these byte for byte.
//
//   cd tests/chat/tools && npm install --ignore-scripts && node make_expected.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, "..", "data");
const readJson = (name) => JSON.parse(readFileSync(join(dataDir, name), "utf8"));
const renderer = JSON.parse(
  readFileSync(join(here, "node_modules", "@huggingface", "jinja", "package.json"), "utf8"),
);

const templates = readJson("templates.json");
const conversations = readJson("conversations.json");

for (const entry of templates) {
  const source = readFileSync(join(dataDir, entry.file), "utf8");
  const template = new Template(source);  // as transformers.js does
  const cases = [];
  for (const conversation of conversations) {
    for (const addGenerationPrompt of [true, false]) {
      const result = { conversation: conversation.name, add_generation_prompt: addGenerationPrompt };
      try {
        result.output = template.render({
          messages: conversation.messages,
          bos_token: entry.bos_token,
          eos_token: entry.eos_token,
          add_generation_prompt: addGenerationPrompt,
        });
      } catch (error) {
        result.error = error.message;
      }
      cases.push(result);
    }
  }
  const out = {
    template: entry.name,
    renderer: `${renderer.name} ${renderer.version}`,
    bos_token: entry.bos_token,
    eos_token: entry.eos_token,
    cases,
  };
  writeFileSync(join(dataDir, `expected_${entry.name}.json`), JSON.stringify(out, null, 2) + "\n");
  const errors = cases.filter((c) => "error" in c).length;
  console.log(`${entry.name}: ${cases.length} cases, ${errors} raise an error`);
}
