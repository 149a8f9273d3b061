export { startFakeModel, FAKE_MODEL_ID } from './server.js';
export type { FakeModel, FakeModelOptions } from './server.js';
export type { FakeScript, FakeTurn, TextTurn, ToolCallTurn, ErrorTurn, TurnMatch, LogEntry, LoggedRequest, WireApi } from './types.js';
export { resolveToolName, splitText } from './script.js';
export { sampleFromSchema } from './json-schema.js';
