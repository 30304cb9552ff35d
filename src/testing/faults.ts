/**
 * Fault injection for stores: wrap any adapter object so that chosen calls of a chosen
 * method throw (before or after reaching the real store), to prove that the runtime
 * survives a store that blips at the worst moment.
 */

/** Which calls of a method fail, and how. */
export interface FaultPlan {
  /** The method to fail, e.g. `"publish"` or `"claimChord"`. */
  method: string;
  /** The 1-based call number that fails first (default 1). */
  nth?: number;
  /** How many consecutive calls fail from `nth` on (default 1; `Infinity` for an outage). */
  times?: number;
  /**
   * `"before"` (default): the call never reaches the store, as when a connection drops
   * before the command is sent. `"after"`: the store applies the call and the reply is
   * lost, as when a connection drops before the answer arrives.
   */
  when?: "before" | "after";
  /** The error thrown (default: an `Error` naming the method and call number). */
  error?: (call: number) => Error;
}

/** A wrapped store, plus what the faults did. */
export interface FaultyStore<T> {
  /** Use this in place of the original. */
  store: T;
  /** How many times each method was called through the wrapper. */
  calls(method: string): number;
  /** How many calls were made to fail so far. */
  injected(): number;
  /** Adds another plan while the store is in use. */
  add(plan: FaultPlan): void;
}

/**
 * Wraps `target` so the calls named by `plans` fail. Every other member passes through
 * unchanged (bound to the original), so the wrapper can stand in for the real store.
 */
export function injectFaults<T extends object>(target: T, ...plans: FaultPlan[]): FaultyStore<T> {
  const counts = new Map<string, number>();
  const active = [...plans];
  let injected = 0;

  const failing = (method: string, call: number): FaultPlan | undefined =>
    active.find((p) => {
      const first = p.nth ?? 1;
      return p.method === method && call >= first && call < first + (p.times ?? 1);
    });
  const errorFor = (plan: FaultPlan, call: number): Error => {
    injected += 1;
    return plan.error?.(call) ?? new Error(`injected fault: ${plan.method} call ${call}`);
  };

  const store = new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== "function" || typeof key !== "string") return value;
      return (...args: unknown[]) => {
        const call = (counts.get(key) ?? 0) + 1;
        counts.set(key, call);
        const plan = failing(key, call);
        if (!plan) return value.apply(obj, args);
        if ((plan.when ?? "before") === "before") return Promise.reject(errorFor(plan, call));
        return Promise.resolve(value.apply(obj, args)).then(() => {
          throw errorFor(plan, call);
        });
      };
    },
  });

  return {
    store,
    calls: (method) => counts.get(method) ?? 0,
    injected: () => injected,
    add: (plan) => active.push(plan),
  };
}
