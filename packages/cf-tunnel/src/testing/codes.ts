/**
 * Every Cloudflare error code the emulator answers with, and where each one comes from. The emulator's
 * `fail()` only accepts a code listed here (its parameter type is the union of these keys), so a new
 * code cannot appear without a row saying whether it is known.
 *
 * `known`: the code and its meaning were read in a source named in `source`.
 * `unknown`: Cloudflare answers this situation with an error, but no source read for this project gives
 * its code; the number is a placeholder so the envelope stays valid (codes are >= 1000). The library
 * never branches on an `unknown` code (test/emulator-codes.test.ts checks this).
 */
export const CLOUDFLARE_ERROR_CODES = {
  // ---- general ----------------------------------------------------------------------------------
  971: {
    status: 429,
    meaning: "rate limited (1,200 requests per 5 minutes per user; then blocked for 5 minutes)",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md A7 (the API's 429 body); Cloudflare docs, error 429 page",
  },
  6007: {
    status: 400,
    meaning: "malformed JSON in the request body",
    known: false,
    source: "unknown: placeholder",
  },
  7003: {
    status: 404,
    meaning: "no route for the URI / invalid object identifier",
    known: true,
    source: "api-schemas openapi.json (the schema's example failure); shared/reviews/cloudflare-tofu.md",
  },
  10000: {
    status: 401,
    meaning: "authentication error",
    known: false,
    source: "unknown: placeholder (not in the schema subset, the SDK or the review)",
  },
  10001: { status: 500, meaning: "internal server error", known: false, source: "unknown: placeholder" },
  // ---- tunnels ----------------------------------------------------------------------------------
  1001: { status: 400, meaning: "tunnel request body invalid", known: false, source: "unknown: placeholder" },
  1002: { status: 400, meaning: "tunnel secret too short", known: false, source: "unknown: placeholder" },
  1003: { status: 404, meaning: "tunnel not found", known: false, source: "unknown: placeholder" },
  1013: {
    status: 409,
    meaning: "a tunnel with this name already exists",
    known: true,
    source: "shared/facts/cloudflare.md §1.3 (issue threads); the HTTP status is not confirmed",
  },
  1022: {
    status: 400,
    meaning: "tunnel still has active connections",
    known: false,
    source: "unknown: placeholder",
  },
  1055: {
    status: 400,
    meaning: "invalid tunnel configuration (cloudflared's ingress validation)",
    known: false,
    source: "unknown: placeholder; the rules are cloudflared ingress/ingress.go validateIngress",
  },
  1056: {
    status: 400,
    meaning: "remote configuration on a locally-managed tunnel",
    known: false,
    source: "unknown: placeholder",
  },
  // ---- DNS --------------------------------------------------------------------------------------
  1004: { status: 400, meaning: "DNS validation error", known: false, source: "unknown: placeholder" },
  9004: { status: 400, meaning: "DNS record type invalid", known: false, source: "unknown: placeholder" },
  9005: { status: 400, meaning: "DNS name invalid", known: false, source: "unknown: placeholder" },
  9007: { status: 400, meaning: "DNS content invalid", known: false, source: "unknown: placeholder" },
  9021: { status: 400, meaning: "DNS TTL invalid", known: false, source: "unknown: placeholder" },
  9100: { status: 400, meaning: "DNS comment invalid", known: false, source: "unknown: placeholder" },
  9207: { status: 400, meaning: "request body invalid", known: false, source: "unknown: placeholder" },
  9300: { status: 400, meaning: "DNS tags not on this plan", known: false, source: "unknown: placeholder" },
  81044: {
    status: 404,
    meaning: "record does not exist",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md (verified DNS codes)",
  },
  81053: {
    status: 400,
    meaning: "an A, AAAA or CNAME record with that host already exists",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md; shared/facts/cloudflare.md §1.3",
  },
  81054: {
    status: 400,
    meaning: "a CNAME record with that host already exists",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md; shared/facts/cloudflare.md §1.3",
  },
  81057: {
    status: 400,
    meaning: "record already exists (a CNAME beside another record at the same name)",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md; shared/facts/cloudflare.md §1.3",
  },
  81058: {
    status: 400,
    meaning: "an identical record already exists",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md; shared/facts/cloudflare.md §1.3",
  },
  81066: {
    status: 400,
    meaning: "DNS batch over the plan's limit",
    known: false,
    source: "unknown: placeholder",
  },
  // ---- Access -----------------------------------------------------------------------------------
  11010: {
    status: 409,
    meaning: "access.api.error.application_already_exists (a host already covered by another application)",
    known: true,
    source: "shared/reviews/cloudflare-tofu.md A1",
  },
  12000: {
    status: 400,
    meaning: "Access request invalid / not found / policy in use",
    known: false,
    source: "unknown: placeholder (replaces 12130, found nowhere upstream)",
  },
} as const;

/** A code the emulator may answer with. */
export type CloudflareErrorCode = keyof typeof CLOUDFLARE_ERROR_CODES;
