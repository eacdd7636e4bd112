// The plan as the page shows it: hosts, versions, images, bytes to move and steps; secrets scrubbed.
import { renderPlan, renderStep } from '../core/render-plan.ts';
import type { Plan } from '../core/step.ts';

/** One step for the page: what, where, why, and its printable commands (never stdin contents). */
export interface StepView {
  index: number;
  name: string;
  host: string;
  kind: string;
  cause: string;
  lines: string[];
}

/** The plan for the page. */
export interface PlanView {
  releaseId: string;
  app: string;
  from?: { name: string; address: string };
  to: { name: string; address: string };
  upToDate: boolean;
  warnings: string[];
  /** TEST settings PROD's containers keep (the release does not change them). */
  drift: { container: string; detail: string }[];
  header: string[];
  containers: { name: string; mode: string; fromRef?: string; fromId?: string; toRef: string; toId: string; changes: boolean; runCommand?: string }[];
  transfers: { ref: string; imageId: string; bytes?: number }[];
  /** Sum of the sizes of the images to move (docker load skips the layers PROD already has). */
  bytes: number;
  steps: StepView[];
  text: string;
}

/** Build the page's view of a plan; `redact` scrubs secret values from every string. */
export function toPlanView(plan: Plan, redact: (s: string) => string): PlanView {
  const total = plan.steps.length;
  const transfers = plan.steps.flatMap((s) => (s.kind === 'transfer' ? [{ ref: s.ref, imageId: s.imageId, bytes: s.bytes }] : []));
  return {
    releaseId: plan.releaseId,
    app: plan.app,
    from: plan.from,
    to: plan.to,
    upToDate: plan.upToDate,
    warnings: plan.warnings.map(redact),
    drift: (plan.drift ?? []).map((d) => ({ container: d.container, detail: redact(d.detail) })),
    header: plan.header.map(redact),
    containers: plan.containers.map((c) => ({
      name: c.name,
      mode: c.mode,
      fromRef: c.fromRef,
      fromId: c.fromId,
      toRef: c.toRef,
      toId: c.toId,
      changes: c.changes,
      runCommand: c.runCommand && redact(c.runCommand),
    })),
    transfers,
    bytes: transfers.reduce((a, t) => a + (t.bytes ?? 0), 0),
    steps: plan.steps.map((s, i) => ({ index: i + 1, name: s.name, host: s.host, kind: s.kind, cause: redact(s.cause), lines: renderStep(s, i + 1, total).slice(2).map(redact) })),
    text: redact(renderPlan(plan)),
  };
}
