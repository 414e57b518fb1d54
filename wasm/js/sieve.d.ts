/**
 * sieve-sdk: privacy-preserving first-party analytics. Every event is cleaned in the browser by
 * sieve-core (WebAssembly) under the site's schema before anything is sent.
 */

/** Options for {@link init}. */
export interface InitOptions {
  /** The collector's base URL, e.g. `https://collect.example.com`. */
  collector: string;
  /** The site's public, ingest-only write key. */
  writeKey: string;
  /** Log each drop, redaction and bad call in the console (`console.debug` / `console.warn`). Default false. */
  debug?: boolean;
  /** Send as soon as this many events are queued. Default 20. */
  batchSize?: number;
  /** Send queued events at least this often, in milliseconds. Default 5000. */
  flushInterval?: number;
  /** Most clean events kept queued; beyond it the oldest are dropped and counted. Default 500. */
  maxQueue?: number;
  /**
   * Keep unsent clean events (never raw ones) in localStorage `sieve:queue` when the page is
   * hidden, and send them on the next load. Default false: nothing is stored.
   */
  persist?: boolean;
  /** Record a `page_view` on load and on SPA navigation (pushState, replaceState, popstate). Default true. */
  autoPage?: boolean;
  /**
   * What to do when the browser sends Global Privacy Control or Do Not Track:
   * - `'anonymous'` (default): send events without any identifier (user, groups, identifier traits);
   * - `'none'`: send nothing at all;
   * - `'ignore'`: carry on as usual; only for sites with another legal basis for the processing.
   */
  privacySignals?: 'anonymous' | 'none' | 'ignore';
}

/** Event properties or traits: declared in the schema, or dropped by core. */
export type Properties = Record<string, unknown>;

/** What core did with an event: see docs/events.md for the clean event's shape. */
export interface Outcome {
  /** The clean event exactly as it would be sent, or null when the whole event is dropped. */
  sent: CleanEvent | null;
  /** Each dropped field and why, as `"field: reason"`. */
  dropped: string[];
  /** Each field a rule changed, as `"field: rule"`. */
  redactions: string[];
}

/** A clean event (docs/events.md). */
export interface CleanEvent {
  id: string;
  event: string;
  time: string;
  props?: Record<string, unknown>;
  user?: string;
  groups?: Record<string, string>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

/** Counters from core and from the SDK. */
export interface Stats {
  /** Clean events waiting to be sent. */
  queued?: number;
  /** Clean events in a batch being sent. */
  in_flight?: number;
  /** Events delivered. */
  sent?: number;
  /** Whole events core dropped (undeclared event, invalid call). */
  dropped_events?: number;
  /** Fields core dropped, by reason. */
  dropped_fields?: Record<string, number>;
  /** Events lost because the queue was full. */
  overflow?: number;
  /** Calls core could not read. */
  invalid_calls?: number;
  /** Calls the SDK refused before core (wrong argument types, props JSON cannot hold). */
  bad_calls: number;
  /** Raw events waiting, in memory, for the config. */
  waiting: number;
  /** Raw events dropped because too many waited for the config. */
  waiting_overflow: number;
  /** Events in batches the collector refused for good (400, 401, 403, 413, 415 ...). */
  rejected_events: number;
  /** Batches handed to `navigator.sendBeacon` when the page was hidden. */
  beacon_batches: number;
  [counter: string]: unknown;
}

/**
 * Load the WebAssembly core and the collector's config (schema and epoch key), retrying a
 * failed load a few times. The only call that may reject. Calls made before it resolves wait
 * in memory (up to 100) and are cleaned when the config arrives.
 */
export function init(options: InitOptions): Promise<void>;

/** Record an event. Never throws; a bad call is counted (and shown with `debug`). */
export function track(name: string, props?: Properties): void;

/**
 * Set the user id and traits for the following events. Kept in memory only; core sends the id
 * as a keyed hash, and drops traits the schema does not declare (names, emails ...).
 */
export function identify(userId: string | number, traits?: Properties): void;

/** Set the group of a kind declared in the schema (e.g. `group('org', 'org-abc')`). Sent as a keyed hash. */
export function group(kind: string, id: string | number): void;

/** Record a `page_view` (does nothing if the schema declares none). Automatic unless `autoPage: false`. */
export function page(): void;

/** Forget the user id, groups and traits (e.g. on sign-out). */
export function reset(): void;

/**
 * Stop everything and drop the queue. The choice is remembered in localStorage
 * (`sieve:opt-out` = `"1"`), the one thing the SDK stores by default.
 */
export function optOut(): void;

/** Undo {@link optOut}: removes `sieve:opt-out` and starts again if `init` was called. */
export function optIn(): void;

/**
 * Send everything queued now. Resolves when the queue is empty, or when the collector asked
 * to wait (the retry then goes on in the background). Never rejects.
 */
export function flush(): Promise<void>;

/** What `track(name, props)` would send now, without queueing it; null before the config has loaded. */
export function preview(name: string, props?: Properties): Outcome | null;

/** Core's counters plus the SDK's own. */
export function stats(): Stats;
