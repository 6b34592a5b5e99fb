import { HomelabError } from "../../errors.js";

/**
 * Imports a workspace library (or one of its subpaths) and checks it exports what a command
 * needs. While a library has not landed in this build, the command says so clearly instead of
 * pretending.
 */
export async function loadLibrary<T>(
  specifier: string,
  needed: readonly string[],
  feature: string,
): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    throw new HomelabError(
      "NOT_AVAILABLE",
      `${feature} is not available yet: ${specifier} is not part of this build`,
      {
        cause,
        hint: "this command lands once its library does",
      },
    );
  }
  const missing = needed.filter((n) => typeof mod[n] !== "function");
  if (missing.length > 0) {
    throw new HomelabError(
      "NOT_AVAILABLE",
      `${feature} is not available yet: ${specifier} does not export ${missing.join(", ")} in this build`,
      { hint: "this command lands once its library does" },
    );
  }
  return mod as T;
}
