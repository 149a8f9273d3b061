export { openDatabase, migrationsFolder, type CaoDb, type CaoDrizzle } from './db.js';
export { InboxStore, MAX_MESSAGE_BYTES, type RegisterTerminalInput, type ListMessagesOptions, type RecoveryResult } from './store.js';
export { DeliveryService, type DeliveryPort, type DeliveryOptions } from './delivery.js';
export { InboxError, isInboxError, type InboxErrorCode } from './errors.js';
export { newWorkerId, isWorkerId, isExternalName } from './ids.js';
export {
  terminals,
  messages,
  TERMINAL_KINDS,
  MESSAGE_STATES,
  type TerminalKind,
  type TerminalRow,
  type NewTerminalRow,
  type MessageRow,
} from './schema.js';
