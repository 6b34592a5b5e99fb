/** The result of {@link decodeUtf8}. */
export type Utf8Result =
  | { ok: true; text: string }
  | {
      ok: false;
      /** Offset of the first byte of the invalid sequence. */
      offset: number;
      byte: number;
      /** The valid text before it. */
      prefix: string;
      /** The whole input with U+FFFD replacements, only to locate the problem. */
      lossy: string;
    };

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when it is invalid (overlongs and surrogates included). */
function sequenceLength(b: Uint8Array, i: number): number {
  const x = b[i] as number;
  if (x < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && ((b[i + k] as number) & 0xc0) === 0x80;
  if (x >= 0xc2 && x <= 0xdf) return cont(1) ? 2 : 0;
  if (x >= 0xe0 && x <= 0xef) {
    const y = b[i + 1] as number;
    if (x === 0xe0 && y < 0xa0) return 0;
    if (x === 0xed && y > 0x9f) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (x >= 0xf0 && x <= 0xf4) {
    const y = b[i + 1] as number;
    if (x === 0xf0 && y < 0x90) return 0;
    if (x === 0xf4 && y > 0x8f) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Strict UTF-8 decoding that says where the first invalid byte is (a leading BOM is dropped). */
export function decodeUtf8(bytes: Uint8Array): Utf8Result {
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    let i = 0;
    while (i < bytes.length) {
      const n = sequenceLength(bytes, i);
      if (n === 0) break;
      i += n;
    }
    const lenient = new TextDecoder("utf-8");
    return {
      ok: false,
      offset: i,
      byte: bytes[i] ?? 0,
      prefix: lenient.decode(bytes.subarray(0, i)),
      lossy: lenient.decode(bytes),
    };
  }
}
