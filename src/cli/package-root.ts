// Files shipped with the package (example configs) are found from the package root, which is two
// or three levels above this module depending on whether it runs from src/ (tsx) or dist/src/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageFile(relative: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, relative);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the inferline package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
