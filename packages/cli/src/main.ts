import pkg from "../package.json" with { type: "json" };

/** The process seams the CLI needs; `bin` passes the real ones, tests pass their own. */
export interface MainOptions {
  argv: readonly string[];
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

/** The version of this CLI package. */
export const version: string = pkg.version;

const HELP = `homelab ${pkg.version}: one declarative file to a running Talos Kubernetes homelab

Usage: homelab [--help] [--version]

Options:
  -h, --help     Show this help
  -v, --version  Print the version
`;

/**
 * Runs the CLI for `argv` (without the node and script paths) and resolves to the exit code.
 */
export async function main(options: MainOptions): Promise<number> {
  const [first] = options.argv;
  if (first === undefined || first === "--help" || first === "-h") {
    options.stdout.write(HELP);
    return 0;
  }
  if (first === "--version" || first === "-v") {
    options.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  options.stderr.write(`homelab: unknown command or option '${first}'\n\n${HELP}`);
  return 2;
}
