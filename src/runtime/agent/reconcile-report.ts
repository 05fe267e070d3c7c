// What the agent says of each reconcile pass: per pipeline stage the model stands for, a metric for
// each change applied, failed (with its error type) or recommended, a log line for each, and the
// replicas observed. A recommendation is counted once per distinct change, not once per pass.
import type { ReconcileMode } from '../../core/reconcile/index.js';
import type { Logger } from '../../ports/logger.js';
import type { ModelStatus } from '../../ports/server-adapter.js';
import type { Telemetry } from '../../ports/telemetry.js';
import type { ActionFailure, ReconcilePass } from '../reconciler.js';
import type { StageRef } from './desired-spec.js';
import { errorTypeOf } from './peer-client.js';

export interface ReconcileReportOptions {
  readonly agentId: string;
  readonly telemetry: Telemetry;
  readonly log: Logger;
}

/** The stages each model stands for in the enforced desired state, and the agent's hardware for one it names none for. */
export interface StagesOfModels {
  readonly stages: Readonly<Record<string, readonly StageRef[]>> | undefined;
  readonly hardware: string;
}

export class ReconcileReport {
  private readonly o: ReconcileReportOptions;
  private readonly recommended = new Set<string>();

  constructor(options: ReconcileReportOptions) {
    this.o = options;
  }

  report(pass: ReconcilePass, mode: ReconcileMode, where: StagesOfModels, observed: readonly ModelStatus[]): void {
    const { telemetry, log, agentId } = this.o;
    const refsOf = (model: string) => where.stages?.[model] ?? [{ pipeline: '', stage: model, hardware: where.hardware }];
    for (const a of pass.applied) {
      for (const r of refsOf(a.model)) telemetry.recordReconcile({ pipeline: r.pipeline, stage: r.stage, action: actionName(a.kind), mode: 'enforce' });
      log.info(`applied ${a.kind === 'replicas' ? `${a.model} replicas ${a.from}→${a.to}` : `${a.model} batch ${a.maxBatchSize}, delay ${a.batchDelayMs} ms`} (${a.reason})`, { agent: agentId });
    }
    for (const f of pass.failed) {
      for (const r of refsOf(f.action.model)) {
        telemetry.recordReconcile({ pipeline: r.pipeline, stage: r.stage, action: actionName(f.action.kind), mode, errorType: failureType(f) });
      }
      log.error(`change failed (attempt ${f.attempts}${f.gaveUp ? ', giving up on this value' : ''}): ${f.message}`, { agent: agentId, model: f.action.model });
    }
    const now = new Set<string>();
    for (const rec of pass.decision.recommendations) {
      const key = JSON.stringify([rec.kind, rec.model, rec.kind === 'replicas' ? rec.to : [rec.maxBatchSize, rec.batchDelayMs]]);
      now.add(key);
      if (this.recommended.has(key)) continue;
      for (const r of refsOf(rec.model)) telemetry.recordReconcile({ pipeline: r.pipeline, stage: r.stage, action: actionName(rec.kind), mode: 'recommend' });
      log.info(`recommend: ${rec.kind === 'replicas' ? `${rec.model} replicas ${rec.from}→${rec.to}` : `${rec.model} batch ${rec.maxBatchSize}`} — ${rec.why}`, { agent: agentId });
    }
    this.recommended.clear();
    for (const k of now) this.recommended.add(k);
    for (const m of observed) {
      for (const r of where.stages?.[m.model] ?? []) {
        telemetry.recordStage({ pipeline: r.pipeline, stage: r.stage, hardware: r.hardware, actualReplicas: m.replicas });
      }
    }
  }
}

function actionName(kind: string): string {
  return kind === 'replicas' ? 'scale_replicas' : 'set_batch';
}

/** A failed change's error type, by the class of what the adapter threw (peer-client.ts errorTypeOf). */
function failureType(f: ActionFailure): string {
  return errorTypeOf(f.error);
}
