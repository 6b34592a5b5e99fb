/** The oldest Node.js the CLI runs on (undici 8, pulled in by argo-bootstrap's Kubernetes client, needs it). */
export const MIN_NODE_VERSION = "22.19.0";

/**
 * Checks a Node.js version (`process.versions.node`, with or without a leading `v`) against
 * {@link MIN_NODE_VERSION}.
 *
 * @returns `undefined` when it is new enough, else the one line to print before exiting.
 */
export function checkNodeVersion(version: string): string | undefined {
  const parse = (v: string) =>
    v
      .replace(/^v/, "")
      .split(/[.+-]/, 3)
      .map((part) => Number.parseInt(part, 10) || 0);
  const [major = 0, minor = 0, patch = 0] = parse(version);
  const [wantMajor = 0, wantMinor = 0, wantPatch = 0] = parse(MIN_NODE_VERSION);
  const isNewEnough =
    major !== wantMajor ? major > wantMajor : minor !== wantMinor ? minor > wantMinor : patch >= wantPatch;
  return isNewEnough
    ? undefined
    : `homelab needs Node.js ${wantMajor}.${wantMinor} or newer; this is ${version}`;
}
