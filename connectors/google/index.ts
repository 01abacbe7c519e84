export { createGoogleConnector, type GoogleConnectorOptions } from './client.ts';
export { eventIdFor, instanceIdFor } from './ids.ts';
export { fromGoogle, toGoogle } from './mapper.ts';
