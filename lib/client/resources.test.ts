import assert from 'node:assert/strict';
import '../schema/kinds/mod.js';
import { allKinds } from '../schema/registry.js';
import * as resources from './resources.js';

describe('resource constants', () => {
  it('name only kinds the schema serves, each under its plural in Resources', () => {
    const served = new Set(allKinds().map((k) => `${k.group}/${k.version}/${k.plural}`));
    for (const [name, value] of Object.entries(resources)) {
      if (name === 'Resources') continue;
      const r = value as resources.GroupVersionResource;
      assert.ok(served.has(`${r.group}/${r.version}/${r.resource}`), `${name} (${r.group}/${r.version} ${r.resource}) is not a served kind`);
    }
    for (const [plural, r] of Object.entries(resources.Resources)) assert.equal(r.resource, plural, `Resources.${plural} names ${r.resource}`);
  });
});
