// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax, not a template
// The JSON Schema of the configuration (for editor completion), generated from the zod schema.
// `npx tsx scripts/gen-config-schema.ts` writes it to config/feisync.schema.json.
import { z } from 'zod';
import { configSchema } from './schema.ts';

export const SCHEMA_ID = 'https://feisync.dev/schema/feisync.schema.json';

type Json = Record<string, any>;

/** A value written as `${NAME}` / `${NAME:-default}` is only known after interpolation. */
const ENV_REFERENCE: Json = {
  type: 'string',
  pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}',
  description: 'An environment variable reference: ${NAME} or ${NAME:-default}',
};

const isContainer = (s: Json) => s.type === 'object' || s.type === 'array';

/** Lets every scalar property also be an env reference, so editors do not flag `${...}` values. */
function allowEnvReferences(schema: Json): Json {
  if (schema.type === 'array' && schema.items) schema.items = allowEnvReferences(schema.items);
  if (Array.isArray(schema.anyOf)) schema.anyOf = schema.anyOf.map(allowEnvReferences);
  if (schema.type !== 'object' || !schema.properties) return schema;
  for (const [key, prop] of Object.entries<Json>(schema.properties)) {
    if (isContainer(prop) || (Array.isArray(prop.anyOf) && prop.anyOf.some(isContainer))) {
      schema.properties[key] = allowEnvReferences(prop);
      continue;
    }
    const { description, default: def, ...rest } = prop;
    schema.properties[key] = {
      ...(description !== undefined ? { description } : {}),
      ...(def !== undefined ? { default: def } : {}),
      anyOf: [
        ...(Array.isArray(rest.anyOf) && Object.keys(rest).length === 1 ? rest.anyOf : [rest]),
        ENV_REFERENCE,
      ],
    };
  }
  return schema;
}

/** The schema describes what may be WRITTEN (io: 'input'): durations as text, defaults shown. */
export function configJsonSchema(): Json {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-07' }) as Json;
  const { $schema, ...rest } = allowEnvReferences(generated);
  return { $schema, $id: SCHEMA_ID, title: 'Feisync configuration', ...rest };
}

/** The exact text of config/feisync.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
