// A validated config is shared by every part of the process; freezing it deeply makes an
// accidental write fail loudly (in strict mode) instead of changing another part's view.
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
