import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import YAML from 'yaml';
import { define, defineObject, field, META, fieldType } from './dsl.js';
import { registerKind } from './registry.js';
import { openapiV2, openapiV2Protobuf, openapiV3Document, openapiV3Json, openapiV3Paths, unresolvedSchemaRefs } from './openapi.js';
import { decodeOpenAPIv2 } from './openapi-proto.js';

// Kinds of our own, in groups no real kind module uses, so the test does not depend on them.
const TYPE_PREFIX = 'io.flotilla.test.openapi.v1.';
const OTHER_TYPE_PREFIX = 'io.flotilla.test.openapi.other.v1.';

defineObject(TYPE_PREFIX + 'Widget', 'Widget is a test kind.', {
  spec: field(2, fieldType.ref(TYPE_PREFIX + 'WidgetSpec'), 'Spec is the desired state of the widget.'),
  status: field(3, fieldType.ref(TYPE_PREFIX + 'WidgetStatus'), 'Status is the observed state.'),
});
define(TYPE_PREFIX + 'WidgetSpec', 'WidgetSpec describes a widget.', {
  replicas: field(1, fieldType.int32, 'Number of replicas.', { default: 1 }),
  size: field(2, fieldType.quantity, 'Size of the widget.'),
  port: field(3, fieldType.intOrString, 'Port to use.'),
  tags: field(4, fieldType.array(fieldType.string), 'Tags.', { listType: 'set' }),
  ports: field(5, fieldType.array(fieldType.ref(TYPE_PREFIX + 'WidgetPort')), 'Ports.', { mergeKey: 'containerPort', strategy: 'merge', listType: 'map', listMapKeys: ['containerPort', 'protocol'] }),
  labels: field(6, fieldType.map(fieldType.string), 'Labels.'),
  startedAt: field(7, fieldType.time, 'When it started.'),
  blob: field(8, fieldType.bytes, 'Opaque bytes.'),
  extra: field(9, fieldType.any, 'Free-form.'),
  mode: field(10, fieldType.enum('Fast', 'Slow'), 'Mode.', { required: true }),
  ratio: field(11, fieldType.double, 'Ratio.'),
  big: field(12, fieldType.int64, 'Big number.'),
  selector: field(13, fieldType.ref(META + 'LabelSelector'), 'Selector.'),
});
define(TYPE_PREFIX + 'WidgetPort', 'WidgetPort is a port.', {
  containerPort: field(1, fieldType.int32, 'Port number.', { required: true }),
  protocol: field(2, fieldType.string, 'Protocol.', { default: 'TCP' }),
});
define(TYPE_PREFIX + 'WidgetStatus', 'WidgetStatus is observed state.', {
  replicas: field(1, fieldType.int32, 'Observed replicas.'),
});
registerKind({
  group: 'test.flotilla.io', version: 'v1', kind: 'Widget', plural: 'widgets', singular: 'widget',
  namespaced: true, definition: TYPE_PREFIX + 'Widget', subresources: ['status', 'scale'], columns: [],
});

defineObject(OTHER_TYPE_PREFIX + 'Gadget', 'Gadget is a cluster-scoped test kind.', {
  spec: field(2, fieldType.ref(OTHER_TYPE_PREFIX + 'GadgetSpec'), 'Spec.'),
});
define(OTHER_TYPE_PREFIX + 'GadgetSpec', 'GadgetSpec describes a gadget.', {
  color: field(1, fieldType.string, 'Color.'),
});
registerKind({
  group: 'other.test.flotilla.io', version: 'v1', kind: 'Gadget', plural: 'gadgets', singular: 'gadget',
  namespaced: false, definition: OTHER_TYPE_PREFIX + 'Gadget', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], columns: [],
});

const widgetGVK = { group: 'test.flotilla.io', version: 'v1', kind: 'Widget' };

/** kubectl's (cli-runtime) v2 QueryParamVerifier, over the gnostic protobuf as decoded here. */
function v2SupportsQueryParam(doc: any, gvk: typeof widgetGVK, param: string): boolean | 'gvk-not-found' {
  for (const p of doc.paths?.path ?? []) {
    const patch = p.value?.patch;
    const ext = (patch?.vendorExtension ?? []).find((e: any) => e.name === 'x-kubernetes-group-version-kind');
    if (!ext?.value?.yaml) continue;
    const v = YAML.parse(ext.value.yaml);
    if (v.group !== gvk.group || v.version !== gvk.version || v.kind !== gvk.kind) continue;
    return (patch.parameters ?? []).some((x: any) => x.parameter?.nonBodyParameter?.queryParameterSubSchema?.name === param);
  }
  return 'gvk-not-found';
}

/** kubectl's v3 verifier: the first PATCH with the GVK must list the parameter inline. */
function v3SupportsQueryParam(doc: any, gvk: typeof widgetGVK, param: string): boolean {
  for (const item of Object.values<any>(doc.paths)) {
    const op = item.patch;
    const g = op?.['x-kubernetes-group-version-kind'];
    if (!g || g.group !== gvk.group || g.version !== gvk.version || g.kind !== gvk.kind) continue;
    return (op.parameters ?? []).some((x: any) => x.name === param);
  }
  return false;
}

/** The checks kube-openapi's proto.NewOpenAPIData makes before kubectl apply can use the models. */
function assertParsesLikeKubectl(doc: any): void {
  const names = new Set<string>((doc.definitions?.additionalProperties ?? []).map((d: any) => d.name));
  const walk = (s: any, path: string) => {
    if (s.ref) {
      assert.ok(s.ref.startsWith('#/definitions/'), `${path}: reference outside definitions`);
      assert.ok(names.has(s.ref.slice('#/definitions/'.length)), `${path}: unknown model in reference ${s.ref}`);
      assert.equal(s.type, undefined, `${path}: definition reference can't have a type`);
      assert.equal(s.properties, undefined, `${path}: unallowed embedded type definition`);
      return;
    }
    const types: string[] = s.type?.value ?? [];
    assert.ok(types.length <= 1, `${path}: multiple types`);
    if (types[0] === 'array') {
      assert.equal(s.items?.schema?.length, 1, `${path}: array should have exactly one sub-item`);
      walk(s.items.schema[0], `${path}[]`);
    }
    for (const p of s.properties?.additionalProperties ?? []) walk(p.value, `${path}.${p.name}`);
    if (s.additionalProperties?.schema) walk(s.additionalProperties.schema, `${path}{}`);
  };
  for (const d of doc.definitions.additionalProperties) walk(d.value, d.name);
}

describe('OpenAPI v2', () => {
  it('defines every registered type with upstream type mapping and extensions', () => {
    const doc: any = openapiV2();
    assert.equal(doc.swagger, '2.0');
    const spec = doc.definitions[TYPE_PREFIX + 'WidgetSpec'];
    assert.equal(spec.type, 'object');
    assert.deepEqual(spec.required, ['mode']);
    const p = spec.properties;
    assert.deepEqual(p.replicas, { type: 'integer', format: 'int32', description: 'Number of replicas.', default: 1 });
    assert.deepEqual(p.big, { type: 'integer', format: 'int64', description: 'Big number.' });
    assert.deepEqual(p.ratio, { type: 'number', format: 'double', description: 'Ratio.' });
    assert.deepEqual(p.size, { $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity', description: 'Size of the widget.' });
    assert.deepEqual(p.port.$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.deepEqual(p.startedAt.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
    assert.deepEqual(p.blob, { type: 'string', format: 'byte', description: 'Opaque bytes.' });
    assert.deepEqual(p.labels, { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels.' });
    assert.deepEqual(p.mode.enum, ['Fast', 'Slow']);
    assert.deepEqual(p.ports, {
      type: 'array',
      items: { $ref: `#/definitions/${TYPE_PREFIX}WidgetPort` },
      description: 'Ports.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-patch-strategy': 'merge',
    });
    assert.equal(p.tags['x-kubernetes-list-type'], 'set');

    assert.deepEqual(doc.definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, 'string');
    assert.deepEqual(doc.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
    assert.deepEqual(doc.definitions[META + 'Time'].format, 'date-time');

    assert.deepEqual(doc.definitions[TYPE_PREFIX + 'Widget']['x-kubernetes-group-version-kind'], [widgetGVK]);
    const list = doc.definitions[TYPE_PREFIX + 'WidgetList'];
    assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ ...widgetGVK, kind: 'WidgetList' }]);
    assert.deepEqual(list.properties.items.items, { $ref: `#/definitions/${TYPE_PREFIX}Widget` });
    assert.equal(list.properties.metadata.$ref, `#/definitions/${META}ListMeta`);
    assert.ok(doc.definitions[META + 'DeleteOptions']['x-kubernetes-group-version-kind'].some((g: any) => g.group === 'test.flotilla.io' && g.kind === 'DeleteOptions'));
    for (const name of [META + 'Status', META + 'WatchEvent', META + 'Patch', 'io.k8s.api.autoscaling.v1.Scale']) {
      assert.ok(doc.definitions[name], `definition ${name}`);
    }
  });

  it('describes collection, item, watch and subresource paths with kubectl-relevant parameters', () => {
    const doc: any = openapiV2();
    const coll = doc.paths['/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets'];
    assert.equal(coll.get.operationId, 'listTestFlotillaIoV1NamespacedWidget');
    assert.equal(coll.get['x-kubernetes-action'], 'list');
    assert.equal(coll.post['x-kubernetes-action'], 'post');
    assert.equal(coll.delete['x-kubernetes-action'], 'deletecollection');
    assert.deepEqual(coll.post['x-kubernetes-group-version-kind'], widgetGVK);
    const names = (op: any) => op.parameters.map((x: any) => x.name);
    for (const op of [coll.post, doc.paths['/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets/{name}'].put]) {
      assert.ok(['body', 'dryRun', 'fieldManager', 'fieldValidation'].every((n) => names(op).includes(n)), names(op).join());
    }
    const item = doc.paths['/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets/{name}'];
    assert.deepEqual(item.patch.consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
    assert.ok(['dryRun', 'fieldManager', 'fieldValidation', 'force'].every((n) => names(item.patch).includes(n)));
    assert.deepEqual(item.parameters.map((x: any) => [x.name, x.in]), [['name', 'path'], ['namespace', 'path'], ['pretty', 'query']]);
    assert.equal(item.delete.parameters[0].schema.$ref, `#/definitions/${META}DeleteOptions`);
    assert.ok(doc.paths['/apis/test.flotilla.io/v1/widgets'].get, 'list for all namespaces');
    assert.equal(doc.paths['/apis/test.flotilla.io/v1/watch/namespaces/{namespace}/widgets/{name}'].get['x-kubernetes-action'], 'watch');
    const status = doc.paths['/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets/{name}/status'];
    assert.equal(status.patch.operationId, 'patchTestFlotillaIoV1NamespacedWidgetStatus');
    assert.ok(names(status.patch).includes('fieldValidation'));
    const scale = doc.paths['/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets/{name}/scale'];
    assert.deepEqual(scale.put['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });

    const gadgets = doc.paths['/apis/other.test.flotilla.io/v1/gadgets'];
    assert.equal(gadgets.delete, undefined, 'deletecollection is not among the Gadget verbs');
    assert.equal(gadgets.get.operationId, 'listOtherTestFlotillaIoV1Gadget');
    assert.equal(doc.paths['/apis/other.test.flotilla.io/v1/gadgets/{name}'].parameters.length, 2);
  });

  it('resolves every $ref, so kubectl can build its models from the document', () => {
    const doc: any = openapiV2();
    const refs = new Set<string>();
    JSON.stringify(doc, (k, v) => (k === '$ref' && refs.add(v), v));
    for (const r of refs) assert.ok(doc.definitions[r.slice('#/definitions/'.length)], `dangling ${r}`);
    assert.deepEqual(unresolvedSchemaRefs().filter((n) => n.startsWith('io.flotilla.test.openapi')), []);
  });

  it('encodes as gnostic protobuf that decodes to the same paths, definitions and extensions', () => {
    const bytes = openapiV2Protobuf();
    // Document.swagger = 1 (tag 0x0a), "2.0"
    assert.deepEqual([...bytes.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]);
    const topFields = new Set<number>();
    const r = protobuf.Reader.create(bytes);
    while (r.pos < r.len) {
      const tag = r.uint32();
      topFields.add(tag >>> 3);
      r.skipType(tag & 7);
    }
    assert.deepEqual([...topFields].sort((a, b) => a - b), [1, 2, 8, 9]);

    const json: any = openapiV2();
    const doc = decodeOpenAPIv2(bytes);
    assert.equal(doc.swagger, '2.0');
    assert.equal(doc.paths.path.length, Object.keys(json.paths).length);
    assert.equal(doc.definitions.additionalProperties.length, Object.keys(json.definitions).length);
    assertParsesLikeKubectl(doc);

    const widget = doc.definitions.additionalProperties.find((d: any) => d.name === TYPE_PREFIX + 'Widget').value;
    const gvk = widget.vendorExtension.find((e: any) => e.name === 'x-kubernetes-group-version-kind');
    assert.deepEqual(YAML.parse(gvk.value.yaml), [widgetGVK]);
    assert.deepEqual(widget.type.value, ['object']);
    const spec = doc.definitions.additionalProperties.find((d: any) => d.name === TYPE_PREFIX + 'WidgetSpec').value;
    const props = Object.fromEntries(spec.properties.additionalProperties.map((p: any) => [p.name, p.value]));
    assert.deepEqual(spec.required, ['mode']);
    assert.equal(props.size.ref, '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity');
    assert.equal(props.replicas.format, 'int32');
    assert.equal(YAML.parse(props.replicas.default.yaml), 1);
    assert.deepEqual(props.labels.additionalProperties.schema.type.value, ['string']);
    assert.equal(props.ports.items.schema[0].ref, `#/definitions/${TYPE_PREFIX}WidgetPort`);
    assert.deepEqual(props.mode.enum.map((a: any) => YAML.parse(a.yaml)), ['Fast', 'Slow']);
    const ext = Object.fromEntries(props.ports.vendorExtension.map((e: any) => [e.name, YAML.parse(e.value.yaml)]));
    assert.deepEqual(ext, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-patch-strategy': 'merge',
    });

    const item = doc.paths.path.find((p: any) => p.name === '/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets/{name}').value;
    assert.equal(item.patch.operationId, 'patchTestFlotillaIoV1NamespacedWidget');
    const body = item.patch.parameters[0].parameter.bodyParameter;
    assert.deepEqual([body.name, body.in, body.required, body.schema.ref], ['body', 'body', true, `#/definitions/${META}Patch`]);
    const path0 = item.parameters[0].parameter.nonBodyParameter.pathParameterSubSchema;
    assert.deepEqual([path0.name, path0.in, path0.required], ['name', 'path', true]);
    const ok = item.get.responses.responseCode.find((x: any) => x.name === '200').value.response;
    assert.equal(ok.schema.schema.ref, `#/definitions/${TYPE_PREFIX}Widget`);
  });

  it('tells kubectl 1.27–1.28 (v2 verifier) that PATCH supports fieldValidation', () => {
    const doc = decodeOpenAPIv2(openapiV2Protobuf());
    assert.equal(v2SupportsQueryParam(doc, widgetGVK, 'fieldValidation'), true);
    assert.equal(v2SupportsQueryParam(doc, widgetGVK, 'noSuchParam'), false);
    assert.equal(v2SupportsQueryParam(doc, { ...widgetGVK, kind: 'Nope' }, 'fieldValidation'), 'gvk-not-found');
  });
});

describe('OpenAPI v3', () => {
  it('indexes one document per group-version with a stable upper-case sha512 hash', () => {
    const paths = openapiV3Paths();
    const entry = paths['apis/test.flotilla.io/v1'];
    const d = openapiV3Json('apis/test.flotilla.io/v1')!;
    assert.match(d.hash, /^[0-9A-F]{128}$/);
    assert.equal(entry.serverRelativeURL, `/openapi/v3/apis/test.flotilla.io/v1?hash=${d.hash}`);
    assert.ok(paths['apis/other.test.flotilla.io/v1']);
    assert.equal(openapiV3Json('/apis/test.flotilla.io/v1/')!.hash, d.hash, 'same document, same hash');
    assert.equal(openapiV3Document('apis/nope/v1'), undefined);
  });

  it('carries only its own kinds, the schemas they reach and the meta types its paths use', () => {
    const doc: any = openapiV3Document('apis/test.flotilla.io/v1');
    assert.equal(doc.openapi, '3.0.0');
    const names = Object.keys(doc.components.schemas);
    for (const n of [TYPE_PREFIX + 'Widget', TYPE_PREFIX + 'WidgetList', TYPE_PREFIX + 'WidgetSpec', TYPE_PREFIX + 'WidgetPort', TYPE_PREFIX + 'WidgetStatus', META + 'ObjectMeta', META + 'ListMeta', META + 'LabelSelector', META + 'DeleteOptions', META + 'Status', META + 'WatchEvent', META + 'Patch', 'io.k8s.api.autoscaling.v1.Scale', 'io.k8s.apimachinery.pkg.api.resource.Quantity']) {
      assert.ok(names.includes(n), `missing ${n}`);
    }
    assert.ok(!names.some((n) => n.startsWith(OTHER_TYPE_PREFIX)), 'no Gadget schemas');
    assert.ok(Object.keys(doc.paths).every((p) => p.startsWith('/apis/test.flotilla.io/v1/')), Object.keys(doc.paths).join());
    const refs = new Set<string>();
    JSON.stringify(doc, (k, v) => (k === '$ref' && refs.add(v), v));
    for (const r of refs) assert.ok(doc.components.schemas[r.slice('#/components/schemas/'.length)], `dangling ${r}`);

    const other: any = openapiV3Document('apis/other.test.flotilla.io/v1');
    assert.ok(!Object.keys(other.components.schemas).some((n) => n.startsWith(TYPE_PREFIX)));
    assert.ok(other.components.schemas[OTHER_TYPE_PREFIX + 'GadgetSpec']);
  });

  it('wraps $ref siblings in allOf and keeps the x-kubernetes extensions for kubectl explain', () => {
    const doc: any = openapiV3Document('apis/test.flotilla.io/v1');
    const widget = doc.components.schemas[TYPE_PREFIX + 'Widget'];
    assert.deepEqual(widget['x-kubernetes-group-version-kind'], [widgetGVK]);
    assert.deepEqual(widget.properties.spec, { allOf: [{ $ref: `#/components/schemas/${TYPE_PREFIX}WidgetSpec` }], description: 'Spec is the desired state of the widget.' });
    const spec = doc.components.schemas[TYPE_PREFIX + 'WidgetSpec'];
    assert.deepEqual(spec.properties.ports.items, { $ref: `#/components/schemas/${TYPE_PREFIX}WidgetPort` });
    assert.equal(spec.properties.ports['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.equal(spec.properties.extra['x-kubernetes-preserve-unknown-fields'], true);
    assert.deepEqual(doc.components.schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf, [{ type: 'string' }, { type: 'number' }]);
  });

  it('tells kubectl (v3 verifier) that PATCH supports fieldValidation, with inline parameters and bodies', () => {
    const doc: any = openapiV3Document('apis/test.flotilla.io/v1');
    assert.equal(v3SupportsQueryParam(doc, widgetGVK, 'fieldValidation'), true);
    assert.equal(v3SupportsQueryParam(doc, widgetGVK, 'noSuchParam'), false);
    const item = doc.paths['/apis/test.flotilla.io/v1/namespaces/{namespace}/widgets/{name}'];
    assert.deepEqual(Object.keys(item.patch.requestBody.content).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
    assert.equal(item.put.requestBody.content['*/*'].schema.$ref, `#/components/schemas/${TYPE_PREFIX}Widget`);
    assert.equal(item.get.responses['200'].content['application/json'].schema.$ref, `#/components/schemas/${TYPE_PREFIX}Widget`);
    assert.deepEqual(item.parameters[0], { name: 'name', in: 'path', description: 'name of the Widget', schema: { type: 'string', uniqueItems: true }, required: true });
  });
});
