import { defineGroup } from "../../cli/command.js";

export const group = defineGroup({
  name: "image",
  summary: "Image Factory schematic, ISO URLs and installer image for the cluster's extensions",
  commands: {
    schematic: () => import("./schematic.js").then((m) => m.command),
    urls: () => import("./urls.js").then((m) => m.command),
  },
});
