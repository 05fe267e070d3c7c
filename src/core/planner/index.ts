export { plan, PLANNER_KINDS } from './plan.js';
export type { Plan, PlanRequest, PlannerKind } from './plan.js';
export type { PlannerOptions } from './context.js';
export { samplesOfSpec } from './samples.js';
export type { PlanningSample, PlanningSamples, SampleChoice } from './samples.js';
