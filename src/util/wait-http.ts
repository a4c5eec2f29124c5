import { http, HttpFailure } from './http.ts';
import { pollUntil } from './poll.ts';

/** What a readiness wait needs of what it waits for, a process or a container: to fail when it exits. */
export interface Watched {
  failOnExit(): Promise<never>;
}

/** Polls `url` until it answers 200; fails at once if `proc` exits first. */
export async function waitHttp200(proc: Watched, what: string, url: string, deadlineMs: number): Promise<void> {
  await pollUntil(what, deadlineMs, async () => {
    try {
      const res = await http(url);
      return res.status === 200 ? { done: true, value: undefined } : { done: false, note: `${res.status} ${res.body.slice(0, 200)}` };
    } catch (err) {
      if (err instanceof HttpFailure) return { done: false, note: err.message };
      throw err;
    }
  }, { abort: proc.failOnExit(), intervalMs: 500 });
}
