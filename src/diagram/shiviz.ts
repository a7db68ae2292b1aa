// ShiViz input (https://bestchai.bitbucket.io/shiviz/): the parsing regex on the first line, an
// empty multiple-executions delimiter on the second, then one line per event: host, vector
// clock as JSON, event text. ShiViz insists that a host's own entry starts at 1 and grows by
// exactly 1 per event of that host; the merged clocks (merge.ts) are built that way.
import type { Merged, Node } from './merge.js';
import { eventText, hostName } from './label.js';

export const SHIVIZ_REGEX = '(?<host>\\S+) (?<clock>\\{[^}]*\\}) (?<event>[^\\n]*)';

export function shivizLog(m: Merged): string {
  const names = m.procs.map((p) => hostName(p.name));
  const out: string[] = [SHIVIZ_REGEX, ''];
  for (const id of m.order) {
    const n = m.nodes[id]!;
    out.push(`${names[n.proc]} ${clockJson(n, names)} ${eventText(m, n).replace(/[\r\n]+/g, ' ')}`);
  }
  return out.join('\n') + '\n';
}

/** The clock as ShiViz reads it: only the processes this event knows of. */
export function clockJson(n: Node, names: readonly string[]): string {
  const parts: string[] = [];
  n.vc.forEach((v, i) => {
    if (v > 0) parts.push(`${JSON.stringify(names[i])}:${v}`);
  });
  return `{${parts.join(',')}}`;
}
