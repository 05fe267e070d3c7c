// Watches the config file for changes. Editors and Kubernetes replace a file rather than write it
// in place (a ConfigMap update swaps a symlink), so the folder is watched and events are filtered
// by name; a burst of events is one change (debounced). The callback loads and validates; a load
// in progress is never overlapped by another.
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';

export interface ConfigWatch {
  close(): void;
}

export function watchConfigFile(file: string, onChange: () => Promise<void> | void, debounceMs = 250): ConfigWatch {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const fire = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = Promise.resolve().then(onChange).catch(() => undefined).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        fire();
      }
    });
  };
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, name) => {
    // Kubernetes swaps ..data; other names are unrelated files of the same folder.
    if (name !== null && name !== base && name !== '..data') return;
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
    timer.unref();
  });
  watcher.on('error', () => undefined);
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
