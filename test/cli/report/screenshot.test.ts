// Renders the example report to a file and, where Chromium is installed, has it take a screenshot:
// the page must load from a file:// URL with nothing else, and paint.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderSimulationReport } from '../../../src/cli/report/index.js';
import { exampleReport } from './example-report.js';

const CHROMIUM = '/usr/bin/chromium';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('report/simulation-report in a browser', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'inferline-report-'));
  const file = path.join(dir, 'report.html');

  before(() => writeFileSync(file, renderSimulationReport(exampleReport())));

  it('writes the page to a file', () => {
    expect(statSync(file).size).to.be.above(10_000);
    expect(readFileSync(file, 'utf8')).to.match(/<\/html>\n$/);
  });

  it('screenshots with headless Chromium', function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      skipped: ${CHROMIUM} is not installed (the page is at ${file})`);
      this.skip();
    }
    const png = path.join(dir, 'r.png');
    const result = spawnSync(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${path.join(dir, 'profile')}`, `--screenshot=${png}`,
      '--window-size=1200,2000', pathToFileURL(file).href,
    ], { timeout: 90_000, encoding: 'utf8' });
    expect(existsSync(png), `chromium exited ${result.status}: ${result.stderr}`).to.equal(true);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
    expect(bytes.length).to.be.above(20_000); // a blank 1200×2000 page compresses to far less
  });
});
