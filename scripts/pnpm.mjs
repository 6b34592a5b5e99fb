// Runs the repo's pinned pnpm and the other tools in node_modules/.bin with node_modules/.bin first on an absolute
// PATH, so turbo's child processes find pnpm and the Node 24 binary wherever they run.
import { spawnSync } from "node:child_process";
import { delimiter, join } from "node:path";

export const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "node_modules", ".bin");

/** Runs a binary from node_modules/.bin (never through a shell). */
export function runBin(name, args, options = {}) {
  const env = { ...process.env, ...options.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
  return spawnSync(join(bin, name), args, { cwd: root, ...options, env });
}

export function pnpm(args, options = {}) {
  return runBin("pnpm", args, options);
}
