/** The id rules, for the fronts that must not load the whole domain (a worker's forwarder starts with every CLI). */
export { isExternalName, isWorkerId } from '../registry/ids.js';
