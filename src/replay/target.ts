/**
 * Who a replay record is for: a remote (its id), or a hook (`hook:<name>`). The `remote` field of
 * a record carries both; this is the one place that writes and reads the `hook:` form.
 */
export type RecordTarget = { readonly kind: 'remote'; readonly remote: string } | { readonly kind: 'hook'; readonly hook: string };

const HOOK = 'hook:';

/** The `remote` field of a record for hook `name`. */
export function hookTarget(name: string): string {
  return `${HOOK}${name}`;
}

export function parseTarget(remote: string): RecordTarget {
  return remote.startsWith(HOOK) ? { kind: 'hook', hook: remote.slice(HOOK.length) } : { kind: 'remote', remote };
}
