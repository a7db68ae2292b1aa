// The rule table (rules.ts) as Markdown, for docs/PROTOCOL.md §1.4 (`npm run docs:tables`
// writes it between the `table:manager-rules` markers; a test fails when the doc differs).
import { MANAGER_REQUESTS, PHASES, ROLES_IN, verdict, type Phase, type Role, type Verdict } from './rules.js';

/** One cell: the roles grouped by outcome, successes first; "BUSY" or a lone reason when the phase alone decides. */
function cell(phase: Phase, request: (typeof MANAGER_REQUESTS)[number]): string {
  const judged = ROLES_IN[phase].map((role) => ({ role, v: verdict(phase, request, role) }));
  if (judged.every(({ v }) => !v.ok && v.reason === 'BUSY')) return 'BUSY';
  // An unregistered sender's NOT_REGISTERED goes without saying (see the note under the table).
  const shown = judged.filter(({ role, v }) => !(role === 'unregistered' && !v.ok && v.reason === 'NOT_REGISTERED'));
  const groups = new Map<string, Role[]>();
  const outcome = (v: Verdict): string => (v.ok ? `**SUCCESS**${v.next === phase ? '' : ` → ${v.next}`}` : v.reason);
  for (const { role, v } of [...shown.filter((x) => x.v.ok), ...shown.filter((x) => !x.v.ok)]) {
    const key = outcome(v);
    groups.set(key, [...(groups.get(key) ?? []), role]);
  }
  const only = [...groups.entries()];
  if (only.length === 1 && !only[0]![0].startsWith('**')) return only[0]![0];
  return only.map(([key, roles]) => `${roles.join(', ')}: ${key}`).join('<br>');
}

export function renderManagerRules(): string {
  const lines = [
    `| request | ${PHASES.join(' | ')} |`,
    `|---|${PHASES.map(() => '---').join('|')}|`,
    ...MANAGER_REQUESTS.map((r) => `| ${r} | ${PHASES.map((p) => cell(p, r)).join(' | ')} |`),
    '',
    'Roles (of the peer named first in the request): `initiator` = the peer whose leave or join is pending',
    '(it may be the leader), `leader`, `member` = another member, `free` = registered and in no DHT,',
    '`unregistered`. A cell lists the roles that can occur in its phase; **SUCCESS** → the phase after it',
    '(no arrow: the phase stays); otherwise the FAILURE reason. Not shown: an unregistered sender gets',
    '`NOT_REGISTERED` wherever the cell is not BUSY, except for `register`.',
  ];
  return lines.join('\n');
}
