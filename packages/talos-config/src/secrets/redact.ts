const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * Makes `value` print as `[redacted <label>]` in `String()`, `JSON.stringify` and `util.inspect`
 * (the methods are non-enumerable, so the data fields stay as they are) and freezes it.
 */
export function redacting<T extends object>(value: T, label: string): Readonly<T> {
  const text = `[redacted ${label}]`;
  Object.defineProperties(value, {
    toString: { value: () => text, enumerable: false },
    toJSON: { value: () => text, enumerable: false },
    [INSPECT]: { value: () => text, enumerable: false },
  });
  return Object.freeze(value);
}
