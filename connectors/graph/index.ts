export { GraphClient, type GraphClientOptions, TokenSource } from './client.ts';
export {
  createGraphConnector,
  type GraphConnector,
  type GraphConnectorOptions,
  type RoomInfo,
} from './connector.ts';
export { fromGraph, ORIGIN_PROPERTY, toGraph, transactionIdOf } from './mapper.ts';
