export * from './router.ts';
export * from './server.ts';
