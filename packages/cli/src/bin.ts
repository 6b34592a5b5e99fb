#!/usr/bin/env node
import { createContext } from "./context.js";
import { main } from "./main.js";

const controller = new AbortController();
let interrupts = 0;
process.on("SIGINT", () => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  controller.abort(new DOMException("interrupted", "AbortError"));
});
const context = createContext({
  signal: controller.signal,
  isTTY: { stdin: process.stdin.isTTY === true },
  prompt: async (question) => {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
});
process.exitCode = await main({ argv: process.argv.slice(2), context });
