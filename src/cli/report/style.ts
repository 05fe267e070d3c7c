// The stylesheet and page shell every CLI HTML report shares: inline in the page, so a report is one file.
import { escapeXml } from './escape.js';

export const REPORT_CSS = `:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1f2328; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
dl.meta { display: flex; flex-wrap: wrap; gap: 4px 28px; margin: 0 0 6px; }
dl.meta div { display: flex; gap: 6px; }
dt { color: #59636e; }
dt::after { content: ":"; }
dd { margin: 0; font-weight: 600; }
.generated { margin: 0; color: #59636e; font-size: 12px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eaeef2; padding: 1px 5px; border-radius: 4px; overflow-wrap: anywhere; }
table { border-collapse: collapse; background: #fff; border: 1px solid #d0d7de; }
th, td { padding: 6px 12px; border-bottom: 1px solid #d0d7de; text-align: left; white-space: nowrap; }
th { background: #f0f2f4; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fff5f5; }
a { color: inherit; }
.mark { font-weight: 600; font-size: 13px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.mark.pass { color: #116329; background: #dafbe1; }
.mark.fail { color: #a40e26; background: #ffebe9; }
.mark.none { color: #59636e; background: #eaeef2; }
.best { margin-left: 8px; color: #7d4e00; font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 8px; vertical-align: -1px; }
h2 .swatch { margin-right: 0; }
.note, .stats { color: #59636e; font-size: 13px; margin: 6px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px; }
figure.chart { margin: 0; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 6px; }
figure.chart svg { display: block; width: 100%; height: auto; }
@media print { body { background: #fff; } section.run { break-inside: avoid; } }`;

/** A standalone report page: the shared stylesheet inline, `body` lines inside <main>. */
export function reportPage(title: string, body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(title)}</title>`,
    `<style>\n${REPORT_CSS}\n</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** One term of a report header's definition list. */
export function meta(term: string, html: string): string {
  return `<div><dt>${term}</dt><dd>${html}</dd></div>`;
}
