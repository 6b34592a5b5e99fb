import { describeExports } from "../../../scripts/export-names.mjs";

// The public surface is a decision: a new or removed export changes test/exports/, which a reviewer sees.
describeExports(import.meta.dirname);
