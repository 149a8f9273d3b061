/** Helpers shared by the provider implementations (detectors, launch files, answer clean-up). */
export * from './lines.js';
export * from './blocks.js';
export * from './answer.js';
export * from './footer.js';
export * from './menu.js';
export * from './composer.js';
export * from './toml.js';
export * from './files.js';
export * from './json-config.js';
export * from './mcp-config.js';
export * from './launch-env.js';
export * from './help-probe.js';
export * from './delegation.js';
