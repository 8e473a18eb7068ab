/**
 * What `npm run dev` prints instead of the handlers' raw EMF metric lines: a count per metric and dimension set,
 * summarized every few seconds and on exit. In Lambda the EMF lines are what CloudWatch turns into metrics; on a
 * laptop a line of JSON per counter per request buries the access lines.
 */

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace?: string; Dimensions?: string[][]; Metrics?: { Name: string }[] }[] };
  [field: string]: unknown;
}

/** The EMF document a stdout line holds, or undefined for any other line. */
export function parseEmf(line: string): EmfDocument | undefined {
  const text = line.trim();
  if (!text.startsWith("{") || !text.includes('"_aws"')) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<EmfDocument>;
    return Array.isArray(parsed._aws?.CloudWatchMetrics) ? (parsed as EmfDocument) : undefined;
  } catch {
    return undefined;
  }
}

/** `name{dim=value,...}` for each metric of an EMF document, with its value (the `service` dimension left out). */
export function countsOf(doc: EmfDocument): [string, number][] {
  const out: [string, number][] = [];
  for (const directive of doc._aws.CloudWatchMetrics) {
    const dims = [...new Set((directive.Dimensions ?? []).flat())].filter((d) => d !== "service").sort();
    const label = dims.map((d) => `${d}=${String(doc[d])}`).join(",");
    for (const metric of directive.Metrics ?? []) {
      const raw = doc[metric.Name];
      const value = Array.isArray(raw) ? raw.reduce((a: number, b) => a + Number(b), 0) : Number(raw ?? 1);
      out.push([label ? `${metric.Name}{${label}}` : metric.Name, Number.isFinite(value) ? value : 1]);
    }
  }
  return out;
}

export class MetricSummary {
  private recent = new Map<string, number>();
  private total = new Map<string, number>();

  add(doc: EmfDocument): void {
    for (const [key, value] of countsOf(doc)) {
      this.recent.set(key, (this.recent.get(key) ?? 0) + value);
      this.total.set(key, (this.total.get(key) ?? 0) + value);
    }
  }

  /** `metrics: a=1 b{status=created}=2` for what was counted since the last call; undefined when nothing was. */
  takeRecent(): string | undefined {
    if (this.recent.size === 0) return undefined;
    const line = format(this.recent);
    this.recent = new Map();
    return line;
  }

  /** Everything counted since start, for the exit summary; undefined when nothing was. */
  totals(): string | undefined {
    return this.total.size === 0 ? undefined : format(this.total);
  }
}

function format(counts: Map<string, number>): string {
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => `${key}=${value}`).join(" ");
}

/**
 * Diverts the EMF lines written to `stream` (Powertools writes them to process.stdout) to `onEmf`; every other write
 * passes through unchanged. Returns the function that restores the stream.
 */
export function divertEmf(stream: NodeJS.WriteStream, onEmf: (doc: EmfDocument) => void): () => void {
  const original = stream.write;
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === "string" || Buffer.isBuffer(chunk)) {
      const text = chunk.toString();
      // Powertools writes one whole line per call; a write that is not entirely EMF lines passes through as is.
      const lines = text.split("\n").filter((l) => l.trim() !== "");
      const docs = lines.map(parseEmf);
      if (lines.length > 0 && docs.every((d) => d !== undefined)) {
        docs.forEach((d) => onEmf(d!));
        const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
        if (callback) process.nextTick(callback);
        return true;
      }
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  stream.write = write as typeof stream.write;
  return () => {
    stream.write = original;
  };
}
