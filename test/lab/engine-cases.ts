// The engine smoke's cases (test/lab/engines.test.ts), also read by scripts/run-tests.ts, which runs each
// case as a job of its own so that the cases spread over the lanes.
export interface EngineCase {
  /** case name, also RELEASEFLOW_TEST_ENGINES' value */
  name: string;
  test: string;
  prod: string;
  n: number;
  net: string;
}

export const CASES: EngineCase[] = [
  { name: '26.1', test: '26.1', prod: '26.1', n: 1, net: '10.213.51' },
  { name: '28.5', test: '28.5', prod: '28.5', n: 2, net: '10.213.52' },
  { name: '28.5-containerd', test: '28.5-containerd', prod: '28.5-containerd', n: 3, net: '10.213.53'},
  { name: '20.10-to-28.5-containerd', test: '20.10', prod: '28.5-containerd', n: 4, net: '10.213.54'},
  { name: '28.5-containerd-to-20.10', test: '28.5-containerd', prod: '20.10', n: 5, net: '10.213.55'},
  { name: '26.1-containerd', test: '26.1-containerd', prod: '26.1-containerd', n: 6, net: '10.213.57' },
];

/** A mixed pair (TEST and PROD on different engines): its smoke runs only what crosses the pair (engines.test.ts). */
export const isPair = (c: EngineCase): boolean => c.test !== c.prod;
