/**
 * The swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf, which kubectl
 * 1.27–1.28 ask `/openapi/v2` for (Accept application/com.github.proto-openapi.spec.v2@v1.0+protobuf)
 * and unmarshal before building client-side models and checking `fieldValidation`
 * support.
 *
 * The descriptor below is a subset of github.com/google/gnostic-models
 * openapiv2/OpenAPIv2.proto (proto3): only the messages and fields Flotilla emits, with
 * gnostic's field numbers. It is embedded so nothing is looked up on disk at run time.
 * Oneof groups are left out: they do not show on the wire. Vendor extensions, `default`
 * and `enum` values travel as gnostic `Any{yaml = 2}` (kubectl reads the YAML text);
 * `Any.value` (a google.protobuf.Any) is never used.
 *
 * Field numbers (gnostic OpenAPIv2.proto):
 *   Document:      swagger 1, info 2, host 3, base_path 4, schemes 5, consumes 6, produces 7,
 *                  paths 8, definitions 9, parameters 10, responses 11, security 12,
 *                  security_definitions 13, tags 14, external_docs 15, vendor_extension 16
 *   Info:          title 1, version 2, description 3
 *   Paths:         vendor_extension 1, path 2          NamedPathItem: name 1, value 2
 *   PathItem:      _ref 1, get 2, put 3, post 4, delete 5, options 6, head 7, patch 8,
 *                  parameters 9, vendor_extension 10
 *   Operation:     tags 1, summary 2, description 3, external_docs 4, operation_id 5,
 *                  produces 6, consumes 7, parameters 8, responses 9, schemes 10,
 *                  deprecated 11, security 12, vendor_extension 13
 *   ParametersItem: parameter 1, json_reference 2
 *   Parameter:     body_parameter 1, non_body_parameter 2
 *   BodyParameter: description 1, name 2, in 3, required 4, schema 5, vendor_extension 6
 *   NonBodyParameter: header 1, form_data 2, query_parameter_sub_schema 3, path_parameter_sub_schema 4
 *   QueryParameterSubSchema: required 1, in 2, description 3, name 4, allow_empty_value 5,
 *                  type 6, format 7, ..., unique_items 20, vendor_extension 23
 *   PathParameterSubSchema: required 1, in 2, description 3, name 4, type 5, format 6, ...,
 *                  unique_items 19, vendor_extension 22
 *   Responses:     response_code 1, vendor_extension 2  NamedResponseValue: name 1, value 2
 *   ResponseValue: response 1, json_reference 2
 *   Response:      description 1, schema 2 (SchemaItem), headers 3, examples 4, vendor_extension 5
 *   SchemaItem:    schema 1, file_schema 2
 *   Schema:        _ref 1, format 2, title 3, description 4, default 5, ..., required 19,
 *                  enum 20, additional_properties 21, type 22, items 23, all_of 24,
 *                  properties 25, ..., vendor_extension 31
 *   AdditionalPropertiesItem: schema 1, boolean 2     TypeItem: value 1   ItemsItem: schema 1
 *   Properties / Definitions: additional_properties 1 NamedSchema: name 1, value 2
 *   NamedAny:      name 1, value 2                    Any: value 1, yaml 2
 */
import protobuf from 'protobufjs';
import YAML from 'yaml';

type Json = Record<string, any>;

const str = (id: number) => ({ type: 'string', id });
const strs = (id: number) => ({ type: 'string', id, rule: 'repeated' });
const bool = (id: number) => ({ type: 'bool', id });
const msg = (type: string, id: number) => ({ type, id });
const msgs = (type: string, id: number) => ({ type, id, rule: 'repeated' });

const DESCRIPTOR = {
  nested: {
    openapi: {
      nested: {
        v2: {
          nested: {
            Document: {
              fields: {
                swagger: str(1), info: msg('Info', 2), host: str(3), basePath: str(4), schemes: strs(5),
                consumes: strs(6), produces: strs(7), paths: msg('Paths', 8), definitions: msg('Definitions', 9),
                vendorExtension: msgs('NamedAny', 16),
              },
            },
            Info: { fields: { title: str(1), version: str(2), description: str(3), vendorExtension: msgs('NamedAny', 7) } },
            Paths: { fields: { vendorExtension: msgs('NamedAny', 1), path: msgs('NamedPathItem', 2) } },
            NamedPathItem: { fields: { name: str(1), value: msg('PathItem', 2) } },
            PathItem: {
              fields: {
                ref: str(1), get: msg('Operation', 2), put: msg('Operation', 3), post: msg('Operation', 4),
                delete: msg('Operation', 5), options: msg('Operation', 6), head: msg('Operation', 7),
                patch: msg('Operation', 8), parameters: msgs('ParametersItem', 9), vendorExtension: msgs('NamedAny', 10),
              },
            },
            Operation: {
              fields: {
                tags: strs(1), summary: str(2), description: str(3), operationId: str(5), produces: strs(6),
                consumes: strs(7), parameters: msgs('ParametersItem', 8), responses: msg('Responses', 9),
                schemes: strs(10), deprecated: bool(11), vendorExtension: msgs('NamedAny', 13),
              },
            },
            ParametersItem: { fields: { parameter: msg('Parameter', 1), jsonReference: msg('JsonReference', 2) } },
            JsonReference: { fields: { ref: str(1), description: str(2) } },
            Parameter: { fields: { bodyParameter: msg('BodyParameter', 1), nonBodyParameter: msg('NonBodyParameter', 2) } },
            BodyParameter: {
              fields: { description: str(1), name: str(2), in: str(3), required: bool(4), schema: msg('Schema', 5), vendorExtension: msgs('NamedAny', 6) },
            },
            NonBodyParameter: {
              fields: { queryParameterSubSchema: msg('QueryParameterSubSchema', 3), pathParameterSubSchema: msg('PathParameterSubSchema', 4) },
            },
            QueryParameterSubSchema: {
              fields: {
                required: bool(1), in: str(2), description: str(3), name: str(4), allowEmptyValue: bool(5),
                type: str(6), format: str(7), uniqueItems: bool(20), vendorExtension: msgs('NamedAny', 23),
              },
            },
            PathParameterSubSchema: {
              fields: {
                required: bool(1), in: str(2), description: str(3), name: str(4), type: str(5), format: str(6),
                uniqueItems: bool(19), vendorExtension: msgs('NamedAny', 22),
              },
            },
            Responses: { fields: { responseCode: msgs('NamedResponseValue', 1), vendorExtension: msgs('NamedAny', 2) } },
            NamedResponseValue: { fields: { name: str(1), value: msg('ResponseValue', 2) } },
            ResponseValue: { fields: { response: msg('Response', 1), jsonReference: msg('JsonReference', 2) } },
            Response: { fields: { description: str(1), schema: msg('SchemaItem', 2), vendorExtension: msgs('NamedAny', 5) } },
            SchemaItem: { fields: { schema: msg('Schema', 1) } },
            Schema: {
              fields: {
                ref: str(1), format: str(2), title: str(3), description: str(4), default: msg('Any', 5),
                required: strs(19), enum: msgs('Any', 20), additionalProperties: msg('AdditionalPropertiesItem', 21),
                type: msg('TypeItem', 22), items: msg('ItemsItem', 23), allOf: msgs('Schema', 24),
                properties: msg('Properties', 25), readOnly: bool(27), vendorExtension: msgs('NamedAny', 31),
              },
            },
            AdditionalPropertiesItem: { fields: { schema: msg('Schema', 1), boolean: bool(2) } },
            TypeItem: { fields: { value: strs(1) } },
            ItemsItem: { fields: { schema: msgs('Schema', 1) } },
            Properties: { fields: { additionalProperties: msgs('NamedSchema', 1) } },
            Definitions: { fields: { additionalProperties: msgs('NamedSchema', 1) } },
            NamedSchema: { fields: { name: str(1), value: msg('Schema', 2) } },
            NamedAny: { fields: { name: str(1), value: msg('Any', 2) } },
            Any: { fields: { yaml: str(2) } },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
/** gnostic's openapi.v2.Document (subset). */
export const DocumentType = root.lookupType('openapi.v2.Document');

function fail(what: string, key: string): never {
  throw new Error(`openapi v2 protobuf: ${what} key "${key}" has no encoding in the gnostic subset`);
}

function anyOf(v: unknown): Json {
  return { yaml: YAML.stringify(v) };
}

/** Splits `x-` keys off as gnostic NamedAny vendor extensions. */
function extensions(o: Json): Json[] | undefined {
  const out: Json[] = [];
  for (const [k, v] of Object.entries(o)) if (k.startsWith('x-')) out.push({ name: k, value: anyOf(v) });
  return out.length ? out : undefined;
}

function schemaMsg(s: Json): Json {
  const m: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-')) continue;
    switch (k) {
      case '$ref': m.ref = v; break;
      case 'format': case 'title': case 'description': m[k] = v; break;
      case 'default': m.default = anyOf(v); break;
      case 'required': m.required = v; break;
      case 'enum': m.enum = (v as unknown[]).map(anyOf); break;
      case 'type': m.type = { value: [v] }; break;
      case 'items': m.items = { schema: [schemaMsg(v)] }; break;
      case 'allOf': m.allOf = (v as Json[]).map(schemaMsg); break;
      case 'readOnly': m.readOnly = v; break;
      case 'additionalProperties':
        m.additionalProperties = typeof v === 'boolean' ? { boolean: v } : { schema: schemaMsg(v) };
        break;
      case 'properties':
        m.properties = { additionalProperties: Object.entries(v as Json).map(([name, p]) => ({ name, value: schemaMsg(p) })) };
        break;
      default: fail('schema', k);
    }
  }
  const ext = extensions(s);
  if (ext) m.vendorExtension = ext;
  return m;
}

function parameterMsg(p: Json): Json {
  if (p.$ref) return { jsonReference: { ref: p.$ref } };
  for (const k of Object.keys(p)) {
    if (!['name', 'in', 'description', 'required', 'type', 'format', 'uniqueItems', 'schema'].includes(k) && !k.startsWith('x-')) fail('parameter', k);
  }
  const common = { name: p.name, in: p.in, description: p.description, required: p.required || undefined, vendorExtension: extensions(p) };
  if (p.in === 'body') return { parameter: { bodyParameter: { ...common, schema: schemaMsg(p.schema) } } };
  const sub = { ...common, type: p.type, format: p.format, uniqueItems: p.uniqueItems || undefined };
  if (p.in === 'query') return { parameter: { nonBodyParameter: { queryParameterSubSchema: sub } } };
  if (p.in === 'path') return { parameter: { nonBodyParameter: { pathParameterSubSchema: sub } } };
  return fail('parameter "in"', String(p.in));
}

function operationMsg(o: Json): Json {
  const m: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('x-')) continue;
    switch (k) {
      case 'tags': case 'summary': case 'description': case 'produces': case 'consumes': case 'schemes': case 'deprecated':
        m[k] = v; break;
      case 'operationId': m.operationId = v; break;
      case 'parameters': m.parameters = (v as Json[]).map(parameterMsg); break;
      case 'responses':
        m.responses = {
          responseCode: Object.entries(v as Json).map(([name, r]) => {
            for (const rk of Object.keys(r)) if (rk !== 'description' && rk !== 'schema') fail('response', rk);
            return { name, value: { response: { description: r.description, schema: r.schema && { schema: schemaMsg(r.schema) } } } };
          }),
        };
        break;
      default: fail('operation', k);
    }
  }
  const ext = extensions(o);
  if (ext) m.vendorExtension = ext;
  return m;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function pathItemMsg(p: Json): Json {
  const m: Json = {};
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('x-')) continue;
    if (METHODS.includes(k)) m[k] = operationMsg(v);
    else if (k === 'parameters') m.parameters = (v as Json[]).map(parameterMsg);
    else fail('path item', k);
  }
  const ext = extensions(p);
  if (ext) m.vendorExtension = ext;
  return m;
}

/** Converts a swagger 2.0 document (as openapiV2() builds it) into gnostic's protobuf. */
export function encodeOpenAPIv2(doc: Json): Uint8Array {
  const m: Json = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k.startsWith('x-')) continue;
    switch (k) {
      case 'swagger': case 'host': case 'schemes': case 'consumes': case 'produces': m[k] = v; break;
      case 'basePath': m.basePath = v; break;
      case 'info': m.info = { title: v.title, version: v.version, description: v.description }; break;
      case 'paths':
        m.paths = { path: Object.entries(v as Json).map(([name, item]) => ({ name, value: pathItemMsg(item) })) };
        break;
      case 'definitions':
        m.definitions = { additionalProperties: Object.entries(v as Json).map(([name, s]) => ({ name, value: schemaMsg(s) })) };
        break;
      default: fail('document', k);
    }
  }
  const ext = extensions(doc);
  if (ext) m.vendorExtension = ext;
  return DocumentType.encode(m).finish();
}

/** Decodes gnostic protobuf back into plain objects (field names as in the descriptor). */
export function decodeOpenAPIv2(bytes: Uint8Array): Json {
  return DocumentType.toObject(DocumentType.decode(bytes), { defaults: false, arrays: true }) as Json;
}
