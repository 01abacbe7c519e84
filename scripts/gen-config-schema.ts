// Writes config/feisync.schema.json from the zod schema in src/config/schema.ts.
// Run: npx tsx scripts/gen-config-schema.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText } from '../src/config/json-schema.ts';

const target = fileURLToPath(new URL('../config/feisync.schema.json', import.meta.url));
writeFileSync(target, configJsonSchemaText());
console.log(`wrote ${target}`);
