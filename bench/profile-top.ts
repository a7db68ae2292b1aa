// Summarise .cpuprofile files: self time per function (and per file), summed over the files given.
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number }

// WINDOW=setup|queries: only the samples taken during that step (windows.json beside the profiles).
// COUNT=1: count samples instead of summing their time deltas. A process preempted while it runs
// (a loaded machine; a loopback send that wakes the receiver) gets one long delta for the sample
// taken when it runs again, which inflates whatever it was doing (most often doSend); counted
// samples weigh every sample alike (with the default 1 ms interval, ~1 ms each).
const which = process.env['WINDOW'];
let window: { start: number; end: number } | undefined;
if (which) {
  const first = process.argv[2]!;
  const all = JSON.parse(readFileSync(first.replace(/[^/]*$/, 'windows.json'), 'utf8')) as { what: string; start: number; end: number }[];
  window = all.find((w) => w.what === which);
}

const self = new Map<string, number>();
const files = new Map<string, number>();
let total = 0;
for (const file of process.argv.slice(2)) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const delta = p.timeDeltas[i] ?? 0;
    t += delta;
    if (window && (t < window.start || t > window.end)) continue;
    const dt = process.env['COUNT'] ? 1000 : delta;
    const url = n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
    const key = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    files.set(url || n.callFrame.functionName, (files.get(url || n.callFrame.functionName) ?? 0) + dt);
    total += dt;
  }
}
const top = (m: Map<string, number>, k: number): void => {
  for (const [key, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)) {
    console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`);
  }
};
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
top(self, Number(process.env['TOP'] ?? 40));
console.log('--- by file');
top(files, 25);
