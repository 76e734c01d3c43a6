/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests: it throws on any
 * line a Prometheus server would reject (bad names, bad escapes, bad values, a TYPE after samples,
 * a family split in two, duplicate series, no trailing newline).
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type?: string;
  help?: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function familyOf(sample: string, families: Map<string, PromFamily>): string {
  if (families.has(sample)) return sample;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sample.endsWith(suffix) && families.has(sample.slice(0, -suffix.length))) {
      return sample.slice(0, -suffix.length);
    }
  }
  return sample;
}

function parseValue(s: string, line: string): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    throw new Error(`bad sample value '${s}' in: ${line}`);
  }
  return Number(s);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = s.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`bad label name '${name}' in: ${line}`);
    if (s[eq + 1] !== '"') throw new Error(`label value not quoted in: ${line}`);
    let j = eq + 2;
    let value = "";
    for (;;) {
      if (j >= s.length) throw new Error(`unterminated label value in: ${line}`);
      const c = s[j];
      if (c === "\\") {
        const n = s[j + 1];
        if (n === "\\") value += "\\";
        else if (n === '"') value += '"';
        else if (n === "n") value += "\n";
        else throw new Error(`bad escape in label value in: ${line}`);
        j += 2;
      } else if (c === '"') {
        j++;
        break;
      } else if (c === "\n") {
        throw new Error(`raw newline in label value in: ${line}`);
      } else {
        value += c;
        j++;
      }
    }
    if (name in labels) throw new Error(`duplicate label '${name}' in: ${line}`);
    labels[name] = value;
    if (s[j] === ",") j++;
    else if (j !== s.length) throw new Error(`junk after label value in: ${line}`);
    i = j;
  }
  return labels;
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith("\n")) {
    throw new Error("exposition does not end with a newline");
  }
  const families = new Map<string, PromFamily>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const open = (name: string) => {
    if (current !== name) {
      if (current) closed.add(current);
      if (closed.has(name)) throw new Error(`family '${name}' appears in two places`);
      current = name;
    }
    if (!families.has(name)) families.set(name, { name, samples: [] });
    return families.get(name)!;
  };
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest = ""] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name '${name}' in: ${line}`);
      const f = open(name);
      if (kind === "TYPE") {
        if (f.type) throw new Error(`second TYPE for '${name}'`);
        if (f.samples.length) throw new Error(`TYPE for '${name}' after its samples`);
        if (!TYPES.has(rest.trim())) throw new Error(`bad type '${rest}' in: ${line}`);
        f.type = rest.trim();
      } else {
        if (f.help !== undefined) throw new Error(`second HELP for '${name}'`);
        f.help = rest;
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const [, name, , labelText = "", valueText] = m;
    const f = open(familyOf(name, families));
    const labels = parseLabels(labelText, line);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate series: ${line}`);
    seen.add(key);
    if (f.type === "counter" && !name.endsWith("_total") && f.name !== name) {
      throw new Error(`counter sample '${name}' outside its family`);
    }
    f.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  return families;
}

/** The value of one series, or undefined. */
export function promValue(
  families: Map<string, PromFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = families.get(name);
  const s = f?.samples.find((x) =>
    x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)
  );
  return s?.value;
}
