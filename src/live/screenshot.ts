// `npm run screenshot`: the milestone scenario (SPEC §6: a manager and 3 peers, setup-dht n = 3 on
// 1950) with the manager's live view on, photographed in headless Chromium once the ring is ready,
// into docs/live-view.png (docs/DIAGRAMS.md, "Live view"). Then a clean shutdown.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { COURSE_RECORD_COUNTS } from '../data/synthetic.js';
import { LineWriter } from '../net/lines.js';
import { UsageError, runProgram, usageErrors } from '../net/usage.js';
import { chooseData } from '../scenario/data.js';
import { BULK_MS, System, ask, parseCounts, repoRoot } from '../scenario/system.js';
import { chromiumPath, launchBrowser, liveUrl, noChromiumReason } from './browser.js';

const USAGE = `usage: npm run screenshot -- [options]
  --data-dir DIR   where details-1950.csv is (the data-directory rule of npm start; else synthetic data)
  --out FILE       the PNG to write (default docs/live-view.png)
  --help           show this text
Needs Chromium: $CHROMIUM_PATH, else /usr/bin/chromium (Debian's chromium package).`;

async function main(): Promise<void> {
  const { values, positionals } = usageErrors(() => parseArgs({
    args: process.argv.slice(2), allowPositionals: true, strict: true,
    options: { 'data-dir': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
  if (values.help) return void process.stdout.write(USAGE + '\n');
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]!.slice(0, 30)}'`);
  const executable = chromiumPath();
  if (executable === null) throw new Error(noChromiumReason()!);
  const out = resolve(values.out ?? resolve(repoRoot(), 'docs', 'live-view.png'));
  const writer = new LineWriter(process.stdout);
  const say = (line: string): void => writer.line(line);
  const data = chooseData(1950, COURSE_RECORD_COUNTS[1950], values['data-dir'], say);
  say(`data: ${data.synthetic ? 'SYNTHETIC ' : ''}details-1950 in ${data.dir}`);

  const system = await System.start({ dataDir: data.dir, trace: 'summary', echo: false, managerArgs: ['--http', '0'] });
  const browser = await launchBrowser(executable).catch((err: unknown) => {
    system.killAll();
    throw err;
  });
  try {
    const url = liveUrl(system.manager);
    say(`live view at ${url}`);
    const page = await browser.open(url, { width: 1280, height: 860 });
    await page.waitForSelector('body[data-connected="true"]');
    await system.addPeers(['peer1', 'peer2', 'peer3']);
    const lines = await ask(system.peer('peer1'), 'setup-dht peer1 3 1950', /^dht-complete: SUCCESS/, BULK_MS);
    const counts = parseCounts(lines).map((n) => n.count);
    say(`setup-dht: counts ${counts.join(', ')}`);
    await page.waitForFunction((n) => document.querySelectorAll('#ring g.node').length === n &&
      [...document.querySelectorAll('#ring g.node')].every((g) => g.getAttribute('data-count') !== ''), counts.length);
    // Let the message dots and row highlights finish, so the picture is still.
    await page.waitForFunction(() => document.getAnimations().length === 0);
    await page.screenshot({ path: out, fullPage: true });
    say(`wrote ${out}`);

    await ask(system.peer('peer1'), 'teardown-dht peer1', /^teardown-complete: SUCCESS/, BULK_MS);
    await Promise.all([...system.peers.values()].map(async (p) => {
      await ask(p, `deregister ${p.name}`, /^deregister: SUCCESS/);
      await p.exited;
    }));
    system.manager.send('quit');
    await system.manager.exited;
  } finally {
    system.killAll();
    await browser.close();
  }
  writer.drain(() => process.exit(0));
}

runProgram('npm run screenshot', USAGE, main);
