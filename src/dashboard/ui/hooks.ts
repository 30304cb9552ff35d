/** Data loading for pages: load, refresh on an interval, reload after actions. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { get } from "./api.ts";

export interface Resource<T> {
  data?: T;
  error?: string;
  reload(): void;
}

/** GETs `path` now, again every `refreshMs` (0: never) and whenever `path` changes. */
export function useResource<T>(path: string | null, refreshMs = 3000): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const current = useRef(path);
  current.current = path;
  const load = useCallback(() => {
    if (path === null) return;
    get<T>(path).then(
      (data) => current.current === path && setState({ data }),
      (error: Error) =>
        current.current === path && setState((s) => ({ ...s, error: error.message })),
    );
  }, [path]);
  useEffect(() => {
    setState({});
    load();
    if (!refreshMs) return;
    const timer = setInterval(load, refreshMs);
    return () => clearInterval(timer);
  }, [load, refreshMs]);
  return { ...state, reload: load };
}
