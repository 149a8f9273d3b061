/** What the fronts (mcp/, dashboard/) may use of the domain: the use cases, their types, and a few constants. */
export { Flows, type Change, type FlowsDeps } from './flows.js';
export type { ScreenSink } from './screen-watch.js';
export * from './types.js';
export { OPERATOR } from '../registry/ownership.js';
export { isExternalName, isWorkerId } from './ids.js';
export { MAX_MESSAGE_BYTES } from '../inbox/messages.js';
export { MESSAGE_STATES } from '../db/schema.js';
export { PROVIDER_IDS } from '../providers/types.js';
export type { RunSummary, Trace, TraceNode } from '../journal/queries.js';
export type { JournalEntry } from '../journal/events.js';
