import assert from 'node:assert/strict';
import { expand, mappingFor } from './expansion.js';

describe('kubelet $(VAR) expansion', () => {
  const vars = mappingFor(new Map([['VAR_A', 'A'], ['VAR_B', 'B'], ['EMPTY', '']]), new Map([['VAR_A', 'shadowed'], ['VAR_C', 'C']]));
  const cases: Array<[string, string]> = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_C)', 'A-C'],
    ['$(EMPTY)x', 'x'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$()', '$()'],
    ['no refs', 'no refs'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['$(VAR_A)$', 'A$'],
  ];
  for (const [input, want] of cases) it(`expands ${JSON.stringify(input)} to ${JSON.stringify(want)}`, () => assert.equal(expand(input, vars), want));
});
