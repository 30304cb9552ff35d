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
  return faultProxy(target, plans, {});
}

/**
 * Wraps a broker so that its publishes fail as `plans` say (`method: "publish"`), whichever
 * way a producer publishes: `publish`, or the functions `publishWithStatuses`,
 * `publishWithStatusesUnlessLive` and `publishWithStatusesUnlessStarted` make (statuses
 * and jobs in one step). Calls of those functions count as calls of `publish`, in one
 * sequence with it.
 */
export function injectPublishFaults<T extends object>(
  broker: T,
  ...plans: FaultPlan[]
): FaultyStore<T> {
  return faultProxy(broker, plans, {
    publishWithStatuses: "publish",
    publishWithStatusesUnlessLive: "publish",
    publishWithStatusesUnlessStarted: "publish",
  });
}

/**
 * The wrapper behind both: `made` maps methods that return a function (made once, called
 * many times) to the method name the function's calls count as.
 */
function faultProxy<T extends object>(
  target: T,
  plans: FaultPlan[],
  made: Record<string, string>,
): FaultyStore<T> {
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
  /** `fn` counted as calls of `method`, failing as the plans say. */
  const counted =
    (method: string, fn: (...args: unknown[]) => unknown, self: unknown) =>
    (...args: unknown[]) => {
      const call = (counts.get(method) ?? 0) + 1;
      counts.set(method, call);
      const plan = failing(method, call);
      if (!plan) return fn.apply(self, args);
      if ((plan.when ?? "before") === "before") return Promise.reject(errorFor(plan, call));
      return Promise.resolve(fn.apply(self, args)).then(() => {
        throw errorFor(plan, call);
      });
    };

  const store = new Proxy(target, {
    get(obj, key, receiver) {
      const value: unknown = Reflect.get(obj, key, receiver);
      if (typeof value !== "function" || typeof key !== "string") return value;
      const method = value as (...args: unknown[]) => unknown;
      const countAs = made[key];
      if (countAs === undefined) return counted(key, method, obj);
      return (...args: unknown[]) => {
        const fn = method.apply(obj, args);
        return typeof fn === "function"
          ? counted(countAs, fn as (...args: unknown[]) => unknown, undefined)
          : fn;
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
