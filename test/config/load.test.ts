import { expect } from 'chai';
import { ConfigError } from '../../src/config/index.js';
import { configError, edited, load, problemsOf, SOURCE, validConfig, type Files, type Loose } from './fixtures.js';

const GOOD_FILE = 'profiles:\n  - model: tokenize\n    hardware: cpu\n    points: [{ batchSize: 1, latencyMs: 1 }]\n';

interface Case {
  name: string;
  given: { text: string; files?: Files; env?: NodeJS.ProcessEnv };
  want: { path: string; message: RegExp };
}

const edit = (f: (c: Loose) => void) => ({ text: edited(f) });

describe('config loader: every class of bad input is a problem at the right path', () => {
  const cases: Case[] = [
    {
      name: 'unknown top-level key',
      given: edit((c) => { c.agents = { mode: 'enforce' }; }),
      want: { path: 'agents', message: /^unknown key — must be one of: hardware, profiles, pipelines, planner, tuner, telemetry, coordination, agent, placement$/ },
    },
    {
      name: 'unknown nested key (a typo)',
      given: edit((c) => { c.pipelines[0].stages[0].hardwares = ['cpu']; }),
      want: { path: 'pipelines[0].stages[0].hardwares', message: /^unknown key — must be one of: name, model, hardware, next,/ },
    },
    {
      name: 'wrong type',
      given: edit((c) => { c.hardware[0].costPerHour = 'cheap'; }),
      want: { path: 'hardware[0].costPerHour', message: /^"cheap" — must be a number$/ },
    },
    {
      name: 'missing required key',
      given: edit((c) => { delete c.pipelines[0].slo; }),
      want: { path: 'pipelines[0].slo', message: /^missing — must be an object$/ },
    },
    {
      name: 'bad duration in the SLO',
      given: edit((c) => { c.pipelines[0].slo.latencyMs = '3 seconds'; }),
      want: { path: 'pipelines[0].slo.latencyMs', message: /^"3 seconds" — must be a duration such as "250ms"/ },
    },
    {
      name: 'bad duration on an edge',
      given: edit((c) => { c.pipelines[0].stages[0].next[0].delay = '5 parsecs'; }),
      want: { path: 'pipelines[0].stages[0].next[0].delay', message: /— must be a duration such as/ },
    },
    {
      name: 'a duration of the wrong type',
      given: edit((c) => { c.pipelines[0].slo.latencyMs = true; }),
      want: { path: 'pipelines[0].slo.latencyMs', message: /^true — must be a number of milliseconds or a duration such as/ },
    },
    {
      name: 'negative cost',
      given: edit((c) => { c.hardware[1].costPerHour = -1; }),
      want: { path: 'hardware[1].costPerHour', message: /^-1 — must be ≥ 0$/ },
    },
    {
      name: 'capacity not an integer',
      given: edit((c) => { c.hardware[1].capacity = 1.5; }),
      want: { path: 'hardware[1].capacity', message: /^1.5 — must be an integer$/ },
    },
    {
      name: 'percentile out of range',
      given: edit((c) => { c.pipelines[0].slo.percentile = 100; }),
      want: { path: 'pipelines[0].slo.percentile', message: /^100 — must be < 100$/ },
    },
    {
      name: 'fraction 1.5',
      given: edit((c) => { c.pipelines[0].stages[0].next[0].fraction = 1.5; }),
      want: { path: 'pipelines[0].stages[0].next[0].fraction', message: /^1.5 — must be ≤ 1$/ },
    },
    {
      name: 'empty stage list',
      given: edit((c) => { c.pipelines[0].stages = []; }),
      want: { path: 'pipelines[0].stages', message: /^\[\] — must have at least 1 item$/ },
    },
    {
      name: 'profile latency 0',
      given: edit((c) => { c.profiles[0].points[0].latencyMs = 0; }),
      want: { path: 'profiles[0].points[0].latencyMs', message: /^0 — must be > 0$/ },
    },
    {
      name: 'profile item neither a path nor a profile',
      given: edit((c) => { c.profiles[1] = 42; }),
      want: { path: 'profiles[1]', message: /^42 — must be a string or an object$/ },
    },
    {
      name: 'bad arrival spec',
      given: edit((c) => { c.planner = { arrival: 'gamma:rate=fast' }; }),
      want: { path: 'planner.arrival', message: /^"gamma:rate=fast" — must be an arrival spec .*rate "fast" is not a finite number/ },
    },
    {
      name: 'planning samples out of range',
      given: edit((c) => { c.planner = { samples: 0 }; }),
      want: { path: 'planner.samples', message: /^0 — must be/ },
    },
    {
      name: 'sample quantile out of range',
      given: edit((c) => { c.planner = { samples: 20, sampleQuantile: 1.2 }; }),
      want: { path: 'planner.sampleQuantile', message: /^1\.2 — must be/ },
    },
    {
      name: 'duplicate batch size',
      given: edit((c) => { c.profiles[2].points[1].batchSize = 1; }),
      want: { path: 'profiles[2].points[1].batchSize', message: /duplicate batch size 1/ },
    },
    {
      name: 'duplicate profile',
      given: edit((c) => { c.profiles.push(c.profiles[0]); }),
      want: { path: 'profiles[3]', message: /duplicate profile for model "resize" on hardware "cpu" \(also at profiles\[0\]\)/ },
    },
    {
      name: 'duplicate hardware name',
      given: edit((c) => { c.hardware[1].name = 'cpu'; }),
      want: { path: 'hardware[1].name', message: /^"cpu" — must be unique \(also at hardware\[0\].name\)$/ },
    },
    {
      name: 'duplicate pipeline name',
      given: edit((c) => { c.pipelines.push(c.pipelines[0]); }),
      want: { path: 'pipelines[1].name', message: /^"images" — must be unique/ },
    },
    {
      name: 'unknown hardware',
      given: edit((c) => { c.pipelines[0].stages[1].hardware.push('tpu'); }),
      want: { path: 'pipelines[0].stages[1].hardware[2]', message: /unknown hardware "tpu" — must be one of: cpu, gpu/ },
    },
    {
      name: 'missing profile',
      given: edit((c) => { c.pipelines[0].stages[1].model = 'ghost'; }),
      want: { path: 'pipelines[0].stages[1].model', message: /no profile for model "ghost"/ },
    },
    {
      name: 'unknown edge target',
      given: edit((c) => { c.pipelines[0].stages[0].next[0].stage = 'clasify'; }),
      want: { path: 'pipelines[0].stages[0].next[0].stage', message: /unknown stage "clasify"/ },
    },
    {
      name: 'cycle',
      given: edit((c) => { c.pipelines[0].stages[1].next = [{ stage: 'resize', fraction: 1 }]; }),
      want: { path: 'pipelines[0].stages', message: /cycle: (resize → classify → resize|classify → resize → classify)/ },
    },
    {
      name: 'missing profile file',
      given: edit((c) => { c.profiles = ['./nope.yaml']; }),
      want: { path: 'profiles[0]', message: /^"\.\/nope\.yaml" — must be a readable profile file \(not found: \/configs\/nope\.yaml\)$/ },
    },
    {
      name: 'missing profile file, as a single path',
      given: edit((c) => { c.profiles = 'gone.yaml'; }),
      want: { path: 'profiles', message: /^"gone.yaml" — must be a readable profile file/ },
    },
    {
      name: 'bad value inside a profile file: the path names the file',
      given: { ...edit((c) => { c.profiles.push('./extra.yaml'); }), files: { './extra.yaml': GOOD_FILE.replace('latencyMs: 1', 'latencyMs: -2') } },
      want: { path: './extra.yaml: profiles[0].points[0].latencyMs', message: /^-2 — must be > 0$/ },
    },
    {
      name: 'duplicate batch size inside a profile file',
      given: {
        ...edit((c) => { c.profiles.push('./extra.yaml'); }),
        files: { './extra.yaml': GOOD_FILE.replace('[{ batchSize: 1, latencyMs: 1 }]', '[{ batchSize: 2, latencyMs: 1 }, { batchSize: 2, latencyMs: 3 }]') },
      },
      want: { path: './extra.yaml: profiles[0].points[1].batchSize', message: /duplicate batch size 2/ },
    },
    {
      name: 'profile duplicated between the config and a file',
      given: { ...edit((c) => { c.profiles.push('./extra.yaml'); }), files: { './extra.yaml': GOOD_FILE.replace('tokenize', 'resize') } },
      want: { path: './extra.yaml: profiles[0]', message: /duplicate profile for model "resize" on hardware "cpu" \(also at profiles\[0\]\)/ },
    },
    {
      name: 'malformed YAML in a profile file',
      given: { ...edit((c) => { c.profiles.push('./extra.yaml'); }), files: { './extra.yaml': 'profiles:\n  - model: a\n   hardware: b\n' } },
      want: { path: 'profiles[3]', message: /^"\.\/extra\.yaml": line 3, column \d+: .* — must be valid YAML or JSON$/ },
    },
    {
      name: 'malformed YAML, with its line and column',
      given: { text: 'hardware:\n  - name: cpu\n    costPerHour: 1\n   oops: [\n' },
      want: { path: '', message: /^line 4, column \d+: .+ — must be valid YAML or JSON$/ },
    },
    {
      name: 'duplicate YAML key',
      given: { text: 'hardware: []\nhardware: []\n' },
      want: { path: '', message: /^line 2, column 1: duplicated mapping key/ },
    },
    {
      name: 'empty file',
      given: { text: '# nothing yet\n' },
      want: { path: '', message: /^the file is empty — must be an object with hardware, profiles and pipelines$/ },
    },
    {
      name: 'a list at the top',
      given: { text: '- a\n- b\n' },
      want: { path: '', message: /^\["a","b"\] — must be an object$/ },
    },
    {
      name: 'env override naming no setting',
      given: { text: edited(() => undefined), env: { INFERLINE_PLANER__SEED: '3' } },
      want: { path: 'INFERLINE_PLANER__SEED', message: /^planer\.seed — must name a config setting: the config has no key "planer" \(it has: hardware, profiles, pipelines, planner, tuner, telemetry, coordination, agent, placement\)$/ },
    },
    {
      name: 'env override of a list item',
      given: { text: edited(() => undefined), env: { INFERLINE_PIPELINES__0__NAME: 'x' } },
      want: { path: 'INFERLINE_PIPELINES__0__NAME', message: /pipelines is not an object \(overrides set object keys only, never list items\)/ },
    },
    {
      name: 'env override with a value of the wrong type',
      given: { text: edited(() => undefined), env: { INFERLINE_PLANNER__SEED: 'abc' } },
      want: { path: 'planner.seed', message: /^"abc" — must be a number \(set by INFERLINE_PLANNER__SEED\)$/ },
    },
  ];

  for (const { name, given, want } of cases) {
    it(name, () => {
      const problems = problemsOf(given.text, given.files, given.env);
      const hit = problems.find((p) => p.path === want.path && want.message.test(p.message));
      expect(hit, `problems were:\n${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`).to.not.equal(undefined);
    });
  }
});

describe('config loader: reporting', () => {
  it('reports every schema problem at once', () => {
    const problems = problemsOf(edited((c) => {
      c.hardware[0].costPerHour = -1;
      c.pipelines[0].slo.latencyMs = 'soon';
      c.pipelines[0].stages[0].next[0].fraction = 1.5;
      c.extra = 1;
    }));
    expect(problems.map((p) => p.path)).to.have.members([
      'hardware[0].costPerHour', 'pipelines[0].slo.latencyMs', 'pipelines[0].stages[0].next[0].fraction', 'extra',
    ]);
  });

  it('reports every cross-reference problem at once, across pipelines and profiles', () => {
    const problems = problemsOf(edited((c) => {
      c.profiles[2].points[1].batchSize = 1;
      c.pipelines[0].stages[1].hardware = ['cpu', 'tpu'];
      c.pipelines.push({ ...c.pipelines[0], name: 'second', stages: [{ name: 'a', model: 'resize', hardware: ['cpu'], next: [{ stage: 'a', fraction: 1 }] }] });
    }));
    expect(problems.map((p) => p.path)).to.include.members([
      'profiles[2].points[1].batchSize', 'pipelines[0].stages[1].hardware[1]', 'pipelines[1].stages[0].next[0].stage',
    ]);
  });

  it('checks cross-references only once the shape is right', () => {
    const problems = problemsOf(edited((c) => {
      c.hardware[0].costPerHour = 'x';
      c.pipelines[0].stages[1].model = 'ghost';
    }));
    expect(problems.map((p) => p.path)).to.deep.equal(['hardware[0].costPerHour']);
  });

  it('does not blame stages for profiles that a broken profile file would have provided', () => {
    const problems = problemsOf(edited((c) => {
      c.profiles = ['./missing.yaml'];
    }));
    expect(problems.map((p) => p.path)).to.deep.equal(['profiles[0]']);
  });

  it('throws a ConfigError whose message starts with the file and lists each problem', () => {
    const err = configError(edited((c) => { c.hardware[0].costPerHour = -1; c.nope = true; }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.name).to.equal('ConfigError');
    expect(err.file).to.equal(SOURCE);
    expect(err.message).to.equal([
      `${SOURCE}: invalid config, 2 problems:`,
      '  hardware[0].costPerHour: -1 — must be ≥ 0',
      '  nope: unknown key — must be one of: hardware, profiles, pipelines, planner, tuner, telemetry, coordination, agent, placement',
    ].join('\n'));
  });

  it('puts a single pathless problem on the first line', () => {
    const err = configError('a: [\n');
    expect(err.message).to.match(new RegExp(`^${SOURCE}: line 2, column 1: .* — must be valid YAML or JSON$`));
  });
});

describe('config loader: result', () => {
  it('fills in defaults and converts durations to milliseconds', () => {
    const config = load(edited((c) => {
      c.pipelines[0].slo.latencyMs = '0.3s';
      c.pipelines[0].stages[0].next[0].delay = '2ms';
    }));
    const pipeline = config.pipelines[0];
    expect(pipeline?.slo).to.deep.equal({ latencyMs: 300, percentile: 99 });
    expect(pipeline?.stages[0]?.next).to.deep.equal([{ stage: 'classify', fraction: 1, delayMs: 2 }]);
    expect(pipeline?.stages[1]?.next).to.deep.equal([]);
    expect(config.planner).to.deep.equal({
      arrival: 'gamma:rate=100,cv=1,duration=60s', seed: 1, maxReplicasPerStage: 64, exactMaxEvaluations: 20000, samples: 1, sampleQuantile: 0.95,
      schedule: '*/15 * * * *', traceWindowMs: 300_000, minTraceMs: 60_000,
    });
    expect(config.source).to.equal(SOURCE);
  });

  it('normalises profiles: sorted by batch size, throughput derived', () => {
    const config = load(edited((c) => { c.profiles[0].points.reverse(); }));
    expect(config.profiles[0]?.points.map((p) => [p.batchSize, p.throughputQps])).to.deep.equal([[1, 500], [8, 8000 / 12]]);
  });

  it('merges inline profiles with those of profile files', () => {
    const config = load(edited((c) => { c.profiles.push('./extra.yaml'); }), { './extra.yaml': GOOD_FILE });
    expect(config.profiles.map((p) => p.model)).to.deep.equal(['resize', 'classifier', 'classifier', 'tokenize']);
  });

  it('is deeply frozen', () => {
    const config = load(edited(() => undefined));
    expect(Object.isFrozen(config)).to.equal(true);
    expect(Object.isFrozen(config.planner)).to.equal(true);
    expect(Object.isFrozen(config.pipelines[0]?.stages[0]?.next[0])).to.equal(true);
    expect(Object.isFrozen(config.profiles[0]?.points[0])).to.equal(true);
    expect(() => { (config.planner as { seed: number }).seed = 9; }).to.throw(TypeError);
    expect(() => { (config.hardware as unknown[]).push({}); }).to.throw(TypeError);
  });

  it('accepts YAML and JSON alike', () => {
    const json = load(JSON.stringify(validConfig()));
    const yaml = load([
      'hardware: [{name: cpu, costPerHour: 0.17}, {name: gpu, costPerHour: 0.9, capacity: 2}]',
      'profiles:',
      '  - {model: resize, hardware: cpu, points: [{batchSize: 1, latencyMs: 2}, {batchSize: 8, latencyMs: 12}]}',
      '  - {model: classifier, hardware: cpu, points: [{batchSize: 1, latencyMs: 60}]}',
      '  - {model: classifier, hardware: gpu, points: [{batchSize: 1, latencyMs: 8}, {batchSize: 16, latencyMs: 40}]}',
      'pipelines:',
      '  - name: images',
      '    slo: {latencyMs: 250ms}',
      '    stages:',
      '      - {name: resize, model: resize, hardware: [cpu], next: [{stage: classify, fraction: 1}]}',
      '      - {name: classify, model: classifier, hardware: [cpu, gpu]}',
    ].join('\n'));
    expect(yaml).to.deep.equal(json);
  });
});
