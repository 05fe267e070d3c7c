// The live view of the demo. On a terminal it redraws one frame in place (ANSI cursor-up and
// clear-to-end); otherwise (a pipe, a log, CI, --view lines) it appends one status line every few
// seconds and each new action as its own line. Frames are pure functions of a snapshot.
import { fmtMs } from '../output.js';
import type { DemoHealth } from './health.js';
import { healthLine } from './health.js';
import type { DemoAction, DemoSnapshot } from './monitor.js';

export type ViewStyle = 'redraw' | 'lines';

export interface ViewContext {
  readonly durationMs: number;
  readonly sloMs: number;
  readonly phase: (tMs: number) => string;
}

const BAR = 30;
const LINE_EVERY_MS = 5000;

export function frameLines(s: DemoSnapshot, actions: readonly DemoAction[], c: ViewContext, health?: DemoHealth): string[] {
  const t = Math.max(0, s.tMs);
  const lines = [
    `inferline demo  ${secs(t)} / ${secs(c.durationMs)}  phase: ${c.phase(s.tMs)}  leader: ${s.leader ?? 'electing…'}${s.leader ? ` (epoch ${s.epoch})` : ''}`,
    `  rate     ${rate(s.rateQps)} q/s  vs capacity ${rate(s.capacityQps)} q/s  ${bar(s.rateQps, s.capacityQps)}`,
    `  P99      ${p99Text(s.p99Ms)} (last 5 s)  vs SLO ${fmtMs(c.sloMs)}  ${verdict(s.p99Ms, c.sloMs)}   misses ${s.windowMisses}/${s.windowQueries}`,
    '  stage       server      replicas (desired/actual)  batch (plan/server)  replicas change',
    ...s.stages.map((st) => `  ${st.stage.padEnd(11)} ${st.server.padEnd(11)} ${`${num(st.desired)}/${num(st.actual)}`.padEnd(26)} ${`${num(st.batch)}/${num(st.observedBatch)}`.padEnd(20)} ${changeText(st.replicasChange)}`),
    `  tuner    ${s.lastDecision ?? '—'}`.slice(0, 160),
    ...(health ? [`  harness  ${healthLine(health)}`] : []),
    '  last actions:',
    ...lastActions(actions, 4).map((a) => `    ${secs(a.tMs).padStart(5)}  ${a.text}`.slice(0, 160)),
  ];
  return lines;
}

/** The one-line form for appended output. */
export function statusLine(s: DemoSnapshot, c: ViewContext): string {
  const replicas = s.stages.map((st) => `${st.stage} ${num(st.desired)}/${num(st.actual)}`).join(', ');
  return `[${secs(Math.max(0, s.tMs)).padStart(4)}] ${c.phase(s.tMs).padEnd(5)}  rate ${rate(s.rateQps)}/${rate(s.capacityQps)} q/s (capacity)  P99 ${p99Text(s.p99Ms)}/${fmtMs(c.sloMs)}  replicas desired/actual: ${replicas}`;
}

export class LiveView {
  private readonly write: (text: string) => void;
  private readonly style: ViewStyle;
  private readonly c: ViewContext;
  private drawn = 0;
  private lastLineMs = Number.NEGATIVE_INFINITY;
  private shownActions = 0;

  constructor(write: (text: string) => void, style: ViewStyle, context: ViewContext) {
    this.write = write;
    this.style = style;
    this.c = context;
  }

  /** Text above the live part (written once). */
  note(text: string): void {
    if (this.style === 'redraw') this.erase();
    this.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  update(s: DemoSnapshot, actions: readonly DemoAction[], health?: DemoHealth, force = false): void {
    if (this.style === 'redraw') {
      const lines = frameLines(s, actions, this.c, health);
      this.erase();
      this.write(`${lines.join('\n')}\n`);
      this.drawn = lines.length;
      return;
    }
    for (const a of actions.slice(Math.max(this.shownActions, actions.length - 20))) {
      this.write(`[${secs(Math.max(0, a.tMs)).padStart(4)}] action  ${a.text}\n`);
    }
    this.shownActions = actions.length;
    if (force || s.tMs - this.lastLineMs >= LINE_EVERY_MS) {
      this.write(`${statusLine(s, this.c)}\n`);
      // The harness's health beside each status line: a run the host could not carry says so as it happens.
      if (health && (force || !health.verdict.trustworthy)) this.write(`       harness  ${healthLine(health)}\n`);
      this.lastLineMs = s.tMs;
    }
  }

  /** Leaves the last frame on screen. */
  end(): void {
    this.drawn = 0;
  }

  private erase(): void {
    if (this.drawn > 0) this.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }
}

function lastActions(actions: readonly DemoAction[], n: number): DemoAction[] {
  const last = actions.slice(-n);
  return last.length === 0 ? [{ tMs: 0, text: '—' }] : last;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(0)}s`;
}

function rate(q: number): string {
  return Number.isFinite(q) ? q.toFixed(0).padStart(4) : '   —';
}

function num(n: number | undefined): string {
  return n === undefined ? '—' : String(n);
}

function p99Text(ms: number): string {
  return Number.isNaN(ms) ? '—' : fmtMs(ms);
}

function verdict(p99Ms: number, sloMs: number): string {
  if (Number.isNaN(p99Ms)) return '';
  return p99Ms <= sloMs ? '✓ within' : '✗ over';
}

function bar(value: number, capacity: number): string {
  if (!(capacity > 0)) return '';
  const frac = Math.min(1.5, value / capacity);
  const full = Math.round(Math.min(1, frac) * BAR);
  return `[${'#'.repeat(full)}${'-'.repeat(BAR - full)}] ${(frac * 100).toFixed(0)}%${frac > 1 ? ' over capacity' : ''}`;
}

function changeText(mode: string): string {
  switch (mode) {
    case 'live': return 'live (enforced)';
    case 'orchestrator': return 'through the orchestrator';
    case 'unsupported': return 'not live here: agent recommends';
    default: return mode;
  }
}
