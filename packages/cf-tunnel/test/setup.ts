import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll } from "vitest";

/** The package's one msw server: unhandled requests fail the test. */
export const server: ReturnType<typeof setupServer> = setupServer();

// msw 3 renamed msw 2's `onUnhandledRequest` to `onUnhandledFrame`; "error" makes unhandled requests fail.
beforeAll(() => server.listen({ onUnhandledFrame: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
