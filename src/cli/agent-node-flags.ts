// The Node flags the agent is launched with, wherever it is launched: the container image
// (deploy/Dockerfile), the systemd unit, the demo's agent processes and the agent bench (tests
// hold the deploy files to this list). V8 grows its young generation up to 16 MB per semi-space
// under the agent's steady small allocations (ten scrapes a second), which kept about 30 MB of RSS
// that a sidecar does not need: with 1 MB semi-spaces the agent measured 76 MB instead of 108 MB
// at the same CPU (bench/agent.ts; docs/live-control.md). Only the agent: the planner's searches
// allocate fast and would collect far more often.
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
