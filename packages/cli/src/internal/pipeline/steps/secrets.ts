import { writeFileAtomic } from "../../fs/atomic.js";
import { readOptional } from "../state.js";
import type { Step } from "../step.js";

/** Machine secrets (CAs, tokens): generated once into secrets.yaml (0600), then only read. */
export const secretsStep: Step = {
  id: "secrets",
  title: "machine secrets",
  async plan(ctx) {
    const text = await readOptional(ctx.files.secrets);
    if (text !== undefined) {
      ctx.found.secretsText = text;
      ctx.found.bundle = ctx.libs.tc.secretsFromYaml(text);
      return [{ id: "secrets", step: "secrets", subject: "secrets.yaml", action: "none", summary: "exists" }];
    }
    return [
      {
        id: "secrets",
        step: "secrets",
        subject: "secrets.yaml",
        action: "create",
        summary: "generate machine secrets (secrets.yaml, 0600)",
      },
    ];
  },
  async apply(ctx) {
    const { tc } = ctx.libs;
    const bundle = tc.generateSecrets();
    const text = tc.secretsToYaml(bundle);
    await writeFileAtomic(ctx.files.secrets, text, 0o600);
    ctx.found.secretsText = text;
    ctx.found.bundle = bundle;
    return "machine secrets generated (secrets.yaml, 0600)";
  },
};
