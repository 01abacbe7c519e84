export * from './errors.ts';
export * from './event.ts';
export * from './fingerprint.ts';
export * from './key.ts';
export * from './time.ts';
