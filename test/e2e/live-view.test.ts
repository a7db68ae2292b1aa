// The manager's live view (`dht-manager --http`) in a real headless Chromium (Debian's chromium,
// driven by playwright-core): a real manager and 3 real peers, typed at through their consoles;
// the page must show the 3 registered peers, then the ring of 3 with its leader and the counts the
// leader printed (72, 75, 76 on the course's 1950 file), then the rings after a member leaves and
// joins again with the counts of each rebuild. Skipped, with the reason, without Chromium.
import { afterEach, describe, expect, it } from 'vitest';
import { BULK_MS, System, ask, parseCounts } from '../../src/scenario/system.js';
import { chromiumPath, launchBrowser, liveUrl, noChromiumReason, type Browser } from '../../src/live/browser.js';
import { DATA_DIR, DATA_LABEL, expectedCounts } from '../helpers/data.js';

const executable = chromiumPath();
const skipped = noChromiumReason();

let system: System | null = null;
let browser: Browser | null = null;
afterEach(async () => {
  system?.killAll();
  await Promise.all(system?.all().map((p) => p.exited) ?? []);
  await browser?.close();
  system = null;
  browser = null;
});

interface RingNode { id: number; name: string; count: string; leader: boolean }

describe.skipIf(skipped !== null)(`live view in headless Chromium (real processes, 1950, n = 3, ${DATA_LABEL})${skipped ? ` — skipped: ${skipped}` : ''}`, () => {
  it('shows the registered peers, then the ring of 3 with its leader and per-node counts and the messages; follows a leave and a join', async () => {
    system = await System.start({ dataDir: DATA_DIR, trace: 'summary', echo: false, managerArgs: ['--http', '0'] });
    const url = liveUrl(system.manager);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    browser = await launchBrowser(executable!);
    const page = await browser.open(url);
    await page.waitForSelector('body[data-connected="true"]');
    expect(await page.locator('#phase').textContent()).toBe('no DHT');

    await system.addPeers(['peer1', 'peer2', 'peer3']);
    await page.waitForFunction(() => document.querySelectorAll('#peers tbody tr').length === 3);
    const rows = await page.$$eval('#peers tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-name'), tr.getAttribute('data-state')]));
    expect(rows.sort()).toEqual([['peer1', 'Free'], ['peer2', 'Free'], ['peer3', 'Free']]);
    expect((await page.$$eval('#free li', (lis) => lis.map((li) => li.getAttribute('data-name')))).sort()).toEqual(['peer1', 'peer2', 'peer3']);
    expect(await page.locator('#ring g.node').count()).toBe(0);

    const lines = await ask(system.peer('peer1'), 'setup-dht peer1 3 1950', /^dht-complete: SUCCESS/, BULK_MS);
    const printed = parseCounts(lines);
    expect(printed.map((n) => n.count)).toEqual(expectedCounts(1950, 3));
    await page.waitForFunction(() => {
      const nodes = [...document.querySelectorAll('#ring g.node')];
      return nodes.length === 3 && nodes.every((g) => g.getAttribute('data-count') !== '');
    });
    const ring = await page.$$eval('#ring g.node', (gs) => gs.map((g) => ({
      id: Number(g.getAttribute('data-id')), name: g.getAttribute('data-name'), count: g.getAttribute('data-count'), leader: g.getAttribute('data-leader') === 'true',
    })));
    expect(ring).toEqual(printed.map((n): RingNode => ({ id: n.id, name: n.name, count: String(n.count), leader: n.id === 0 })));
    expect(ring.find((n) => n.leader)?.name).toBe('peer1');
    // What a person reads: the labels under each node, the phase, the table, the message list.
    const labels = await page.locator('#ring').textContent();
    for (const n of printed) expect(labels).toContain(`${n.name}${n.count} records`);
    expect(labels).toContain('★ leader');
    expect(await page.locator('#phase').getAttribute('data-phase')).toBe('ready');
    expect(await page.locator('#phase').textContent()).toContain('leader peer1');
    expect(await page.locator('#total').textContent()).toBe(`${printed.reduce((a, n) => a + n.count, 0)} records on 3 nodes`);
    expect(await page.locator('#free li.empty').count()).toBe(1);
    const states = await page.$$eval('#peers tbody tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.getAttribute('data-name'), tr.getAttribute('data-state')])));
    expect(states).toEqual({ peer1: 'Leader', peer2: 'InDHT', peer3: 'InDHT' });
    const messages = await page.$$eval('#messages li .text', (els) => els.map((e) => e.textContent ?? ''));
    expect(messages[0]).toMatch(/^response to dht-complete: SUCCESS/);
    expect(messages[1]).toMatch(new RegExp(`^dht-complete peer1 \\(rid \\d+\\) counts=\\[${printed.map((n) => n.count).join(', ')}\\]$`));
    expect(messages.filter((m) => m.startsWith('register peer'))).toHaveLength(3);

    // The manager's own status says the same counts.
    system.manager.mark();
    system.manager.send('status');
    await system.manager.waitFor(/^DHT: ready, year 1950, leader peer1, 3 members/);
    expect(await system.manager.waitFor(/^ {2}records: /)).toBe(`  records: ${printed.map((n) => `${n.name} ${n.count}`).join(', ')} (${printed.reduce((a, n) => a + n.count, 0)} in all)`);

    // A member leaves, then joins again: each dht-rebuilt carries the rebuilt ring's counts.
    const leaver = printed[1]!.name;
    for (const [what, n] of [['leave', 2], ['join', 3]] as const) {
      const rebuilt = await ask(system.peer(leaver), `${what}-dht ${leaver}`, /^dht-rebuilt: SUCCESS/, BULK_MS);
      const m = new RegExp(`^${what}: (\\S+) rebuilt the DHT \\(([\\d, ]+) records\\)$`).exec(rebuilt.find((l) => l.startsWith(`${what}: `) && l.includes('rebuilt the DHT')) ?? '');
      expect(m, `${leaver} printed the rebuilt counts`).not.toBeNull();
      const [leader, counts] = [m![1]!, m![2]!.split(', ')];
      expect(counts).toHaveLength(n);
      await page.waitForFunction((want) => {
        const nodes = [...document.querySelectorAll('#ring g.node')];
        return nodes.map((g) => g.getAttribute('data-count')).join(',') === want;
      }, counts.join(','));
      const after = await page.$$eval('#ring g.node', (gs) => gs.map((g) => [g.getAttribute('data-name'), g.getAttribute('data-leader')]));
      expect(after[0]).toEqual([leader, 'true']);
      expect(after.map((a) => a[0]).includes(leaver)).toBe(what === 'join');
      expect(await page.locator('#phase').getAttribute('data-phase')).toBe('ready');
    }
  });
});
