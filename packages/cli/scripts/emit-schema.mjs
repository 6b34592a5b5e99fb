// Writes schema/homelab.schema.json from the built package (run after `tsup`).
import { writeFileSync } from "node:fs";
import { homelabJsonSchema } from "../dist/index.js";

const target = new URL("../schema/homelab.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(homelabJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target.pathname}\n`);
