// Planning a release in unit tests: the frame with the run target alone (every container by docker run).
import type { PromotionInput } from '../../src/core/plan.ts';
import { planRelease } from '../../src/targets/plan.ts';
import { runTarget } from '../../src/targets/run/index.ts';

export const planPromotion = (i: PromotionInput) => planRelease(i, [{ target: runTarget, observed: { facts: undefined, header: [], warnings: [] } }]);
