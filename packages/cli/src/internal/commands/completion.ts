import { HomelabError } from "../../errors.js";
import { defineCommand, GLOBAL_OPTIONS, type GroupDef, type TreeNode } from "../cli/command.js";

/** A node of the tree with its children loaded (completion scripts need all of it at once). */
interface Loaded {
  node: TreeNode;
  children: Loaded[];
}

async function loadTree(node: TreeNode): Promise<Loaded> {
  if (node.kind === "command") return { node, children: [] };
  const children = await Promise.all(
    Object.values(node.commands).map(async (load) => loadTree(await load())),
  );
  return { node, children };
}

function walk(tree: Loaded, path: string[], visit: (tree: Loaded, path: string[]) => void): void {
  visit(tree, path);
  for (const c of tree.children) walk(c, [...path, c.node.name], visit);
}

function flagsOf(node: TreeNode): string[] {
  return Object.keys({ ...GLOBAL_OPTIONS, ...(node.kind === "command" ? node.options : {}) }).map(
    (o) => `--${o}`,
  );
}

function bash(root: Loaded): string {
  const cases: string[] = [];
  walk(root, [], (tree, path) => {
    const words = [...tree.children.map((c) => c.node.name), ...flagsOf(tree.node)].join(" ");
    cases.push(`    "${path.join(" ")}") words="${words}" ;;`);
  });
  return `# homelab bash completion: eval "$(homelab completion bash)"
_homelab() {
  local cur path="" w
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) path="\${path:+$path }$w" ;; esac
  done
  local words=""
  case "$path" in
${cases.join("\n")}
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _homelab homelab
`;
}

function zsh(root: Loaded): string {
  return `#compdef homelab
# homelab zsh completion: homelab completion zsh > "\${fpath[1]}/_homelab"
autoload -U bashcompinit && bashcompinit
${bash(root)}`;
}

function fish(root: Loaded): string {
  const lines = [
    "# homelab fish completion: homelab completion fish > ~/.config/fish/completions/homelab.fish",
  ];
  walk(root, [], (tree, path) => {
    const cond =
      path.length === 0 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${path[path.length - 1]}`;
    for (const { node: c } of tree.children)
      lines.push(`complete -c homelab -n '${cond}' -f -a ${c.name} -d '${c.summary.replace(/'/g, "")}'`);
  });
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS))
    lines.push(
      `complete -c homelab -l ${name}${o.short ? ` -s ${o.short}` : ""} -d '${o.description.replace(/'/g, "")}'`,
    );
  return `${lines.join("\n")}\n`;
}

/** `homelab completion <shell>` */
export const command = defineCommand({
  name: "completion",
  summary: "Print a shell completion script",
  args: [{ name: "shell", description: "bash, zsh or fish", required: true }],
  async run({ out, args, root }) {
    const shell = args[0];
    const scripts: Record<string, (root: Loaded) => string> = { bash, zsh, fish };
    const make = shell === undefined ? undefined : scripts[shell];
    if (!make) throw new HomelabError("USAGE", `unsupported shell '${shell}': expected bash, zsh or fish`);
    const script = make(await loadTree(root satisfies GroupDef));
    out.result({ shell, script }, script);
    return 0;
  },
});
