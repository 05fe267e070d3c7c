// HTML and SVG reports of the CLI: a dependency-free line-chart renderer, the simulation report and
// the profile report.
export { lineChart, PALETTE } from './svg.js';
export type { LineChartOptions, LineSeries, ReferenceLine } from './svg.js';
export { decimate, DEFAULT_MAX_POINTS } from './decimate.js';
export type { ChartPoint } from './decimate.js';
export { niceTicks, niceStep, logTicks } from './ticks.js';
export { escapeXml } from './escape.js';
export { renderSimulationReport } from './simulation-report.js';
export type { BurstReaction, ControllerRun, SimulationReport, TimelinePoint } from './types.js';
export { renderProfileReport } from './profile-report.js';
export type { ProfileReport, ProfileReportHardware, ProfileReportPoint } from './profile-report.js';
export { REPORT_CSS } from './style.js';
export { renderDemoReport } from './demo-report.js';
export type { DemoReport } from './demo-report.js';
