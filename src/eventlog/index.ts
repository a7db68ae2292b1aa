export * from './format.js';
export * from './lines.js';
export * from './writer.js';
