// A small SVG chart of setup time against ℓ, one line per n, drawn from the measured figures.

interface Point { records: number; n: number; ms: number }

const W = 640;
const H = 400;
const M = { left: 70, right: 130, top: 40, bottom: 55 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

export function setupPlot(points: Point[]): string {
  const xs = points.map((p) => p.records);
  const ys = points.map((p) => p.ms);
  const xMax = Math.max(1, ...xs) * 1.05;
  const yMax = Math.max(1, ...ys) * 1.1;
  const x = (v: number): number => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">ringdht setup time against records (ℓ), per ring size n</text>`);
  parts.push(axis(M.left, H - M.bottom, W - M.right, H - M.bottom), axis(M.left, M.top, M.left, H - M.bottom));
  for (let i = 0; i <= 4; i++) {
    const xv = (xMax / 4) * i;
    const yv = (yMax / 4) * i;
    parts.push(`<text x="${x(xv)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="11">${Math.round(xv / 1000)}k</text>`);
    parts.push(`<text x="${M.left - 8}" y="${y(yv) + 4}" text-anchor="end" font-size="11">${yv >= 1000 ? (yv / 1000).toFixed(1) + ' s' : Math.round(yv) + ' ms'}</text>`);
    parts.push(`<line x1="${M.left}" y1="${y(yv)}" x2="${W - M.right}" y2="${y(yv)}" stroke="#eee"/>`);
  }
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">records ℓ</text>`);
  parts.push(`<text x="18" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 18 ${(M.top + H - M.bottom) / 2})">setup time</text>`);
  const ns = [...new Set(points.map((p) => p.n))].sort((a, b) => a - b);
  ns.forEach((n, i) => {
    const color = COLORS[i % COLORS.length]!;
    const line = points.filter((p) => p.n === n).sort((a, b) => a.records - b.records);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.map((p) => `${x(p.records)},${y(p.ms)}`).join(' ')}"/>`);
    for (const p of line) parts.push(`<circle cx="${x(p.records)}" cy="${y(p.ms)}" r="4" fill="${color}"><title>ℓ ${p.records}, n ${p.n}: ${p.ms.toFixed(1)} ms</title></circle>`);
    parts.push(`<text x="${W - M.right + 12}" y="${M.top + 20 + i * 20}" font-size="12" fill="${color}">n = ${n}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}

function axis(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="black"/>`;
}

/** CPU per record-hop against n, one line per ℓ: flat lines mean the cost grows only with the hops. */
export function costPlot(points: { records: number; n: number; usPerRecordHop: number }[]): string {
  const xMax = Math.max(1, ...points.map((p) => p.n)) * 1.05;
  const yMax = Math.max(0.1, ...points.map((p) => p.usPerRecordHop)) * 1.2;
  const x = (v: number): number => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">CPU of all processes per record-hop against n, per ℓ</text>`,
    axis(M.left, H - M.bottom, W - M.right, H - M.bottom), axis(M.left, M.top, M.left, H - M.bottom)];
  for (let i = 0; i <= 4; i++) {
    const xv = (xMax / 4) * i;
    const yv = (yMax / 4) * i;
    parts.push(`<text x="${x(xv)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="11">${Math.round(xv)}</text>`);
    parts.push(`<text x="${M.left - 8}" y="${y(yv) + 4}" text-anchor="end" font-size="11">${yv.toFixed(2)} µs</text>`);
    parts.push(`<line x1="${M.left}" y1="${y(yv)}" x2="${W - M.right}" y2="${y(yv)}" stroke="#eee"/>`);
  }
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">ring size n</text>`);
  const ls = [...new Set(points.map((p) => p.records))].sort((a, b) => a - b);
  ls.forEach((l, i) => {
    const color = COLORS[i % COLORS.length]!;
    const line = points.filter((p) => p.records === l).sort((a, b) => a.n - b.n);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.map((p) => `${x(p.n)},${y(p.usPerRecordHop)}`).join(' ')}"/>`);
    for (const p of line) parts.push(`<circle cx="${x(p.n)}" cy="${y(p.usPerRecordHop)}" r="4" fill="${color}"><title>ℓ ${p.records}, n ${p.n}: ${p.usPerRecordHop.toFixed(2)} µs</title></circle>`);
    parts.push(`<text x="${W - M.right + 12}" y="${M.top + 20 + i * 20}" font-size="12" fill="${color}">ℓ = ${l.toLocaleString()}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}
