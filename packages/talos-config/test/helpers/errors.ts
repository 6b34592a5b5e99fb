import { isTalosConfigError } from "../../src/index.js";

/** What `fn` threw, as plain data; fails the test when it throws nothing or something else than a TalosConfigError. */
export function failure(fn: () => unknown): {
  code: string;
  field: unknown;
  message: string;
  details: Record<string, unknown> | undefined;
} {
  try {
    fn();
  } catch (error) {
    if (isTalosConfigError(error)) {
      return {
        code: error.code,
        field: error.details?.field,
        message: error.message,
        details: error.details,
      };
    }
    throw error;
  }
  throw new Error("expected a TalosConfigError");
}
