// Reads a recorded Triton body from fixtures/ (see fixtures/README.md for where each came from).
import { readFileSync } from 'node:fs';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

/** A fixture parsed with JSON.parse, to derive variants from (its numbers are all small). */
export function fixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(fixture(name)) as Record<string, unknown>;
}
