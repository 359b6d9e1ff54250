/**
 * A Secret's values stay on the server until the user asks for one: a followed Secret
 * reaches the browser with each key's size in place of its value, and one key's value is
 * one call (`secretValue`), read from the API when asked. (The YAML view, which the user
 * opens on purpose, shows the object as the API has it.)
 */
import type { ApiClient, KubeObject } from '../../lib/client/mod.js';
import type { ObjectRef } from './objectwatch.js';
import { QueryError } from './tables.js';

const isSecret = (ref: { group: string; resource: string }) => ref.group === '' && ref.resource === 'secrets';

/** The Secret with `data` and `stringData` replaced by {key: size in bytes}; any other object as it is. */
export function redactSecret(ref: { group: string; resource: string }, obj: KubeObject | undefined): KubeObject | undefined {
  if (!obj || !isSecret(ref)) return obj;
  const o = { ...(obj as any) };
  const sizes: Record<string, number> = {};
  for (const [k, v] of Object.entries<string>(o.data ?? {})) sizes[k] = Buffer.from(v ?? '', 'base64').length;
  for (const [k, v] of Object.entries<string>(o.stringData ?? {})) sizes[k] = Buffer.byteLength(v ?? '');
  delete o.data;
  delete o.stringData;
  o.dataSizes = sizes;
  if (o.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']) {
    // kubectl apply keeps the whole Secret, values included, in this annotation
    o.metadata = { ...o.metadata, annotations: { ...o.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '(hidden: it holds the values)' } };
  }
  return o;
}

/** One key of a Secret, decoded (text when it is UTF-8, else base64 and said so). */
export async function secretValue(client: ApiClient, args: any): Promise<{ key: string; value: string; encoding: 'utf-8' | 'base64' }> {
  const r = args?.ref;
  const key = args?.key;
  if (!r || typeof r.namespace !== 'string' || !r.namespace || typeof r.name !== 'string' || !r.name) throw new QueryError('args.ref {namespace, name} of the Secret is required');
  if (typeof key !== 'string' || !key) throw new QueryError('args.key is required');
  const ref: ObjectRef = { group: '', version: 'v1', resource: 'secrets', namespace: r.namespace, name: r.name };
  const secret = await client.get<any>(ref);
  const b64 = secret.data?.[key];
  if (b64 === undefined) throw new QueryError(`secret ${r.namespace}/${r.name} has no key "${key}"`);
  const bytes = Buffer.from(b64, 'base64');
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const utf8 = Buffer.from(text, 'utf8').equals(bytes);
  return utf8 ? { key, value: text, encoding: 'utf-8' } : { key, value: b64, encoding: 'base64' };
}
