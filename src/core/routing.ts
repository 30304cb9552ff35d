/** A routing rule: tasks whose name matches `pattern` (glob, `*` any run of characters) go to `queue`. */
export interface RoutingRule {
  pattern: string;
  queue: string;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** Resolves a task's queue: enqueue call, then task options, then rules, then the default queue. */
export class Router {
  private readonly rules: { test: RegExp; queue: string }[];
  constructor(
    rules: RoutingRule[] = [],
    readonly defaultQueue = "default",
  ) {
    this.rules = rules.map((r) => ({ test: globToRegExp(r.pattern), queue: r.queue }));
  }

  queueFor(taskName: string, fromCall?: string, fromOptions?: string): string {
    if (fromCall) return fromCall;
    if (fromOptions) return fromOptions;
    for (const rule of this.rules) if (rule.test.test(taskName)) return rule.queue;
    return this.defaultQueue;
  }
}
