/**
 * Event intake, the public face: `readDelivery` (verify, decrypt, type one webhook delivery),
 * `handleWebhook` (url_verification, de-duplication, quick ack), `startLongConnection` (the SDK's
 * WSClient), and the typed hints both transports produce.
 */
export * from './delivery.ts';
export * from './intake.ts';
