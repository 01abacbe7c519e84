export * from './budget.ts';
export * from './connector.ts';
export * from './feed.ts';
export * from './series.ts';
export * from './store.ts';
