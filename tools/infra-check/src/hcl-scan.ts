// A structural scanner for HCL native syntax: it finds blocks and attributes with their lines and
// the raw text of each attribute's expression. It does not evaluate anything and assumes the file
// already parsed (hcl2json reports syntax errors first); its job is what the JSON form loses:
// line numbers and the difference between `name = { ... }` (attribute) and `name { ... }` (block).

export interface ScannedAttribute {
  name: string;
  line: number;
  expression: string;
}

export interface ScannedBlock {
  type: string;
  labels: string[];
  line: number;
  body: ScannedBody;
}

export interface ScannedBody {
  attributes: ScannedAttribute[];
  blocks: ScannedBlock[];
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_-]/;

export function scanHcl(source: string): ScannedBody {
  let i = 0;
  const n = source.length;
  const lineStarts: number[] = [0];
  for (let k = 0; k < n; k++) if (source[k] === "\n") lineStarts.push(k + 1);
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  const skipLineComment = (): void => {
    while (i < n && source[i] !== "\n") i++;
  };
  const skipBlockComment = (): void => {
    i += 2;
    while (i < n && !(source[i] === "*" && source[i + 1] === "/")) i++;
    i += 2;
  };
  const atComment = (): boolean =>
    source[i] === "#" || (source[i] === "/" && (source[i + 1] === "/" || source[i + 1] === "*"));
  const skipComment = (): void => {
    if (source[i] === "/" && source[i + 1] === "*") skipBlockComment();
    else skipLineComment();
  };

  const skipHeredoc = (): boolean => {
    // at "<<"
    const match = /^<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/.exec(source.slice(i, i + 200));
    if (match === null) return false;
    const marker = match[1];
    i += match[0].length;
    while (i < n) {
      const end = source.indexOf("\n", i);
      const line = source.slice(i, end === -1 ? n : end);
      i = end === -1 ? n : end + 1;
      if (line.trim() === marker) {
        i = end === -1 ? n : end; // leave the newline for the caller
        return true;
      }
    }
    return true;
  };

  // Skips a quoted string starting at `"`, including template interpolations.
  const skipString = (): void => {
    i++;
    while (i < n) {
      const c = source[i];
      if (c === "\\") {
        i += 2;
      } else if (c === '"') {
        i++;
        return;
      } else if ((c === "$" || c === "%") && source[i + 1] === c && source[i + 2] === "{") {
        i += 3;
      } else if ((c === "$" || c === "%") && source[i + 1] === "{") {
        i += 2;
        skipUntilClose("}");
      } else {
        i++;
      }
    }
  };

  // Skips a string, a bracketed group or a heredoc starting at `i`; false when none starts here.
  const skipNested = (): boolean => {
    const c = source[i] as string;
    if (c === '"') {
      skipString();
      return true;
    }
    const close = c === "(" ? ")" : c === "[" ? "]" : c === "{" ? "}" : undefined;
    if (close !== undefined) {
      i++;
      skipUntilClose(close);
      return true;
    }
    return c === "<" && source[i + 1] === "<" && skipHeredoc();
  };

  // Skips to just after the matching `close`, across lines.
  const skipUntilClose = (close: string): void => {
    while (i < n) {
      if (source[i] === close) {
        i++;
        return;
      }
      if (skipNested()) continue;
      if (atComment()) skipComment();
      else i++;
    }
  };

  // Skips an attribute expression: to the end of the line at bracket depth 0 (or a closing brace
  // of a one-line block, or a comment).
  const skipExpression = (): number => {
    while (i < n) {
      const c = source[i] as string;
      if (c === "\n" || c === "}") return i;
      if (skipNested()) continue;
      if (atComment()) {
        const end = i;
        skipComment();
        return end;
      }
      i++;
    }
    return i;
  };

  const readIdent = (): string => {
    const start = i;
    while (i < n && IDENT_CHAR.test(source[i] as string)) i++;
    return source.slice(start, i);
  };

  const skipInline = (): void => {
    while (i < n && (source[i] === " " || source[i] === "\t" || source[i] === "\r")) i++;
  };

  const parseBody = (nested: boolean): ScannedBody => {
    const body: ScannedBody = { attributes: [], blocks: [] };
    while (i < n) {
      const c = source[i] as string;
      if (c === " " || c === "\t" || c === "\r" || c === "\n" || c === ",") {
        i++;
        continue;
      }
      if (atComment()) {
        skipComment();
        continue;
      }
      if (c === "}") {
        i++;
        if (nested) return body;
        continue;
      }
      if (!IDENT_START.test(c)) {
        i++;
        continue;
      }
      const start = i;
      const name = readIdent();
      skipInline();
      if (source[i] === "=" && source[i + 1] !== "=") {
        i++;
        const exprStart = i;
        const exprEnd = skipExpression();
        body.attributes.push({
          name,
          line: lineAt(start),
          expression: source.slice(exprStart, exprEnd).trim(),
        });
        continue;
      }
      const labels: string[] = [];
      while (i < n && source[i] !== "{") {
        if (source[i] === '"') {
          const labelStart = i + 1;
          skipString();
          labels.push(source.slice(labelStart, i - 1));
        } else if (IDENT_START.test(source[i] as string)) {
          labels.push(readIdent());
        } else {
          i++;
        }
      }
      i++; // "{"
      body.blocks.push({ type: name, labels, line: lineAt(start), body: parseBody(true) });
    }
    return body;
  };

  return parseBody(false);
}
