import { http, HttpFailure } from '../../util/http.ts';
import { pollUntil } from '../../util/poll.ts';
import type { Watched } from './managed-process.ts';

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
