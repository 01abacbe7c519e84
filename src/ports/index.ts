export * from './connector.ts';
export * from './store.ts';
