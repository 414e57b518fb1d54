// Type-checked with `tsc --noEmit --strict` (tests/bundler/tsconfig.json) against
// wasm/js/sieve.d.ts: every export of sieve-sdk used as the README shows, with the types a
// TypeScript app sees. The `@ts-expect-error` lines must be errors, or tsc fails.
import {
  flush, group, identify, init, optIn, optOut, page, preview, reset, stats, track,
  type CleanEvent, type InitOptions, type Outcome, type Properties, type Stats,
} from 'sieve-sdk';

const options: InitOptions = {
  collector: 'https://collect.example.com',
  writeKey: 'wk_0123456789abcdef',
  debug: true,
  batchSize: 20,
  flushInterval: 5000,
  maxQueue: 500,
  persist: false,
  autoPage: true,
  privacySignals: 'anonymous',
};

export async function usage(): Promise<void> {
  const ready: Promise<void> = init(options);
  await ready;
  const props: Properties = { query: 'pricing', results: 3 };
  const none: void = track('search', props);
  track('page_hidden');
  identify('user-1', { plan: 'team' });
  identify(42);
  group('org', 'org-abc');
  group('workspace', 7);
  page();
  reset();
  optOut();
  optIn();
  const flushed: Promise<void> = flush();
  await flushed;

  const outcome: Outcome | null = preview('search', { query: 'x' });
  if (outcome) {
    const sent: CleanEvent | null = outcome.sent;
    const id: string | undefined = sent?.id;
    const dropped: string[] = outcome.dropped;
    const redactions: string[] = outcome.redactions;
    void [id, dropped, redactions];
  }
  const s: Stats = stats();
  const counts: number[] = [s.bad_calls, s.waiting, s.waiting_overflow, s.rejected_events, s.beacon_batches];
  const queued: number | undefined = s.queued;
  void [none, counts, queued];

  // Wrong calls a developer could make: each must be a type error.
  // @ts-expect-error collector and writeKey are required
  await init({ debug: true });
  // @ts-expect-error privacySignals takes one of three values
  await init({ ...options, privacySignals: 'off' });
  // @ts-expect-error the event name is a string
  track(42, {});
  // @ts-expect-error props are an object, not a string
  track('search', 'query');
  // @ts-expect-error a user id is a string or a number
  identify({ id: 1 });
  // @ts-expect-error group needs a kind and an id
  group('org');
  // @ts-expect-error preview may return null
  preview('search').sent;
  // @ts-expect-error track returns nothing to chain
  track('search').then(() => {});
}
