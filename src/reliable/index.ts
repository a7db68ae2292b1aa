export * from './outbox.js';
export * from './recent.js';
export * from './acks.js';
export * from './replay.js';
