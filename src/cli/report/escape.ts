// Escaping for text and attribute values in SVG and HTML. Every user-provided string goes through
// here: stage and controller names, titles, labels, colours, the command line.

// Characters XML 1.0 does not allow at all; a browser shows an error page for a stray one in XHTML
// and SVG files, so they are dropped rather than escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
};

/** Escapes text for XML and HTML, content or (double- or single-quoted) attribute value. */
export function escapeXml(text: string): string {
  return text.replace(INVALID_XML, '').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
