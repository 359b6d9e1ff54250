import assert from 'node:assert/strict';
import './mod.js';
import { defineObject, field, fieldType } from '../dsl.js';
import { allKinds, registerKind } from '../registry.js';
import { groupVersionPath, openapiV2, openapiV3Document, openapiV3Paths } from '../openapi.js';
import type { KindDef } from '../types.js';

/** The paths a kind is served under in the OpenAPI v2 document, found from the registry alone. */
function v2PathsOf(doc: { paths: Record<string, unknown> }, k: KindDef): string[] {
  const prefix = `/${groupVersionPath(k)}/`;
  return Object.keys(doc.paths).filter((p) => p.startsWith(prefix) && (p.endsWith(`/${k.plural}`) || p.includes(`/${k.plural}/`)));
}

describe('served kinds: the schema registry is the only list', () => {
  it('every kind kinds/mod.ts registers is in the OpenAPI v2 paths and its group-version in v3', () => {
    const v2 = openapiV2() as { paths: Record<string, unknown> };
    const v3 = openapiV3Paths();
    for (const k of allKinds()) {
      assert.ok(v2PathsOf(v2, k).length > 0, `${k.group}/${k.version} ${k.plural} has no OpenAPI v2 path`);
      assert.ok(`${groupVersionPath(k)}` in v3, `${k.group}/${k.version} is not in the OpenAPI v3 paths`);
    }
  });

  it('a kind registered in one file of a new group is served without another list to update', () => {
    const TYPE_PREFIX = 'io.flotilla.test.served.v1.';
    defineObject(TYPE_PREFIX + 'Sprocket', 'Sprocket is a test kind registered only here.', {
      spec: field(2, fieldType.map(fieldType.string), 'Spec of the sprocket.'),
    });
    const k = registerKind({
      group: 'served.test.flotilla.io', version: 'v1', kind: 'Sprocket', plural: 'sprockets', singular: 'sprocket',
      // get and list only: other suites' controllers (garbage collector, namespace) in the
      // same mocha process see every served kind and must not act on this one
      namespaced: true, definition: TYPE_PREFIX + 'Sprocket', verbs: ['get', 'list'], columns: [],
    });
    assert.ok(allKinds().includes(k));
    assert.ok(v2PathsOf(openapiV2() as { paths: Record<string, unknown> }, k).length > 0, 'in OpenAPI v2');
    assert.ok('apis/served.test.flotilla.io/v1' in openapiV3Paths(), 'in the OpenAPI v3 group-versions');
    assert.ok(openapiV3Document('apis/served.test.flotilla.io/v1'), 'its OpenAPI v3 document');
  });
});
