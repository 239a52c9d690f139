/**
 * Retrying a call that was refused by a rate limit (HTTP 429), after the
 * Retry-After the server sent: the only way to be admitted sooner than that
 * is to hammer the server, which the token bucket refuses anyway.
 */
import { RateLimitError } from './errors.js';

export interface RetryOptions {
  /** Tries in all, the first included (default 3). */
  attempts?: number;
  /** Longest wait accepted, in seconds; a longer Retry-After fails at once (default 30). */
  maxWaitSeconds?: number;
  /** How to wait (tests pass a fake clock). */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 3;
  const maxWait = opts.maxWaitSeconds ?? 30;
  const sleep = opts.sleep ?? realSleep;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof RateLimitError) || i >= attempts || e.retryAfter > maxWait) throw e;
      await sleep(e.retryAfter * 1000);
    }
  }
}
