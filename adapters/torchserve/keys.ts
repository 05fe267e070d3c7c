// The bearer keys TorchServe requires by default (B.2): one for the management API, one for the
// inference API. They come from options or from key_file.json, which TorchServe writes into its
// working directory. Keys expire (token_expiration_min, 60 by default) and TorchServe does not
// rewrite the file when they do, so after a refusal we re-read the file and, when it still holds
// the refused key, ask for a new one with the file's never-expiring API key (GET /token), which
// writes the new key to the file.
import { readFile } from 'node:fs/promises';
import { parseKeyFile, TorchServeWireError } from './parse.js';
import type { KeyFile } from './parse.js';

export type KeyRole = 'management' | 'inference';

export interface KeyStoreOptions {
  readonly keyFile?: string;
  readonly managementKey?: string;
  readonly inferenceKey?: string;
}

export interface KeyRefresh {
  /** True when there is a different key to try. */
  readonly changed: boolean;
  readonly key?: string;
  /** What was tried, for the error message when nothing helped. */
  readonly note: string;
}

/** Asks TorchServe for a new key of a role, authorised by the API key (writes it to the key file). */
export type KeyRenewer = (role: KeyRole, apiKey: string) => Promise<void>;

export class KeyStore {
  readonly keyFile: string | undefined;
  private readonly current: Partial<Record<KeyRole, string>> = {};
  private loaded: Promise<void> | undefined;
  private loadNote = '';
  private readonly refreshing = new Map<KeyRole, Promise<KeyRefresh>>();

  constructor(options: KeyStoreOptions) {
    this.keyFile = options.keyFile;
    if (options.managementKey) this.current.management = options.managementKey;
    if (options.inferenceKey) this.current.inference = options.inferenceKey;
  }

  /** The key to send, or undefined to send none (token auth may be disabled). Reads the file once, lazily. */
  async key(role: KeyRole): Promise<string | undefined> {
    if (this.current[role] === undefined && this.keyFile !== undefined) {
      this.loaded ??= this.readFile().then(
        (file) => this.adopt(file),
        (err: unknown) => {
          // Not fatal: with disable_token_authorization=true there is no file and no key is needed.
          this.loadNote = describeReadError(this.keyFile as string, err);
        },
      );
      await this.loaded;
    }
    return this.current[role];
  }

  /** Where keys come from, for messages. */
  sources(role: KeyRole): string {
    const option = role === 'management' ? 'managementKey' : 'inferenceKey';
    return this.keyFile !== undefined
      ? `key_file.json in TorchServe's working directory (keyFile: ${this.keyFile}) or the ${option} option`
      : `the ${option} option, or key_file.json in TorchServe's working directory (set keyFile)`;
  }

  /**
   * After the server refused `refused`: find a different key. Concurrent callers share one refresh,
   * and a caller whose refused key was already replaced just gets the new one, so a burst of
   * refusals renews at most once.
   */
  async refresh(role: KeyRole, refused: string | undefined, renew: KeyRenewer): Promise<KeyRefresh> {
    const now = this.current[role];
    if (now !== undefined && now !== refused) return { changed: true, key: now, note: 'a newer key was already loaded' };
    const inflight = this.refreshing.get(role);
    if (inflight) return inflight;
    const p = this.doRefresh(role, refused, renew).finally(() => this.refreshing.delete(role));
    this.refreshing.set(role, p);
    return p;
  }

  private async doRefresh(role: KeyRole, refused: string | undefined, renew: KeyRenewer): Promise<KeyRefresh> {
    if (this.keyFile === undefined) return { changed: false, note: 'no key file is configured to re-read' };
    let file: KeyFile;
    try {
      file = await this.readFile();
    } catch (err) {
      return { changed: false, note: describeReadError(this.keyFile, err) };
    }
    const fromFile = file[role];
    if (fromFile !== undefined && fromFile !== refused) return this.adoptKey(role, fromFile, `re-read ${this.keyFile}`);
    if (file.api === undefined) return { changed: false, note: `${this.keyFile} holds the refused ${role} key and no API key to renew it` };
    try {
      await renew(role, file.api);
      file = await this.readFile();
    } catch (err) {
      return { changed: false, note: `${this.keyFile} holds the refused ${role} key, and renewing it failed: ${(err as Error).message}` };
    }
    const renewed = file[role];
    if (renewed !== undefined && renewed !== refused) return this.adoptKey(role, renewed, `renewed with the API key`);
    return { changed: false, note: `renewing the ${role} key left ${this.keyFile} unchanged` };
  }

  private adoptKey(role: KeyRole, key: string, note: string): KeyRefresh {
    this.current[role] = key;
    return { changed: true, key, note };
  }

  private adopt(file: KeyFile): void {
    this.current.management ??= file.management;
    this.current.inference ??= file.inference;
  }

  private async readFile(): Promise<KeyFile> {
    return parseKeyFile(await readFile(this.keyFile as string, 'utf8'));
  }

  /** Why the first read failed, if it did. */
  get note(): string {
    return this.loadNote;
  }
}

function describeReadError(path: string, err: unknown): string {
  if (err instanceof TorchServeWireError) return `${path} is malformed: ${err.message}`;
  const code = (err as { code?: string }).code;
  return `cannot read ${path} (${code ?? (err as Error).message})`;
}
