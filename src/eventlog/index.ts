export * from './format.js';
export * from './writer.js';
