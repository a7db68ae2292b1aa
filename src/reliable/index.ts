export * from './outbox.js';
export * from './recent.js';
