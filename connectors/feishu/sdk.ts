/**
 * The Lark SDK, loaded with `require`. It is one 6 MB CommonJS bundle: imported through ESM (and
 * more so through tsx's loader, as `bin/feisync.mjs` runs) it costs about 75 MB more resident memory
 * than the same module required (Node 20: +111 MB against +36 MB), for the same exports.
 */
import { createRequire } from 'node:module';
import type * as Lark from '@larksuiteoapi/node-sdk';

export const lark: typeof Lark = createRequire(import.meta.url)('@larksuiteoapi/node-sdk');
export type LarkClient = Lark.Client;
