// What a client-node ApiException says: its HTTP status, and the API server's Status message.
// Shared by the Kubernetes coordinator and the scale-subresource backend.

/** The HTTP status of a client-node ApiException, or undefined for any other error. */
export function apiStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The `message` of the API server's Status body, else the body cut at `max` characters, else the error's own message. */
export function apiMessageOf(err: unknown, max = 300): string {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body.slice(0, max);
    }
  }
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return err instanceof Error ? err.message : String(err);
}
