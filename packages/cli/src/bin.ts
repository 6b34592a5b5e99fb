#!/usr/bin/env node
import pkg from "../package.json" with { type: "json" };
import { checkNodeVersion } from "./node-version.js";

// Kept tiny: `--version` answers without loading anything; everything else loads lazily.
const argv = process.argv.slice(2);
const tooOld = checkNodeVersion(process.versions.node);
if (tooOld) {
  // before anything heavy loads: an older Node fails deep inside undici with a stack trace
  process.stderr.write(`${tooOld}\n`);
  process.exitCode = 1;
} else if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`${pkg.version}\n`);
} else {
  const [{ createContext }, { main }, { isatty }] = await Promise.all([
    import("./context.js"),
    import("./main.js"),
    import("node:tty"),
  ]);
  const controller = new AbortController();
  let interrupts = 0;
  const interrupt = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort(new DOMException("interrupted", "AbortError"));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  // a closed terminal too: its default action would exit without cleanup (e.g. `secrets edit`'s clear text)
  process.on("SIGHUP", interrupt);
  const context = createContext({
    signal: controller.signal,
    isTTY: { stdin: isatty(0) },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
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
  process.exitCode = await main({ argv, context });
}
