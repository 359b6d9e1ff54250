import assert from 'node:assert/strict';
import {
  annotationsSize,
  byteLength,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidAnnotationKey,
  isValidLabelValue,
  isValidPathSegmentName,
  validateName,
} from './names.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('DNS names', () => {
  it('isDNS1123Subdomain accepts dotted lowercase names up to 253 characters', () => {
    for (const ok of ['a', 'ab', 'a-b', '0', 'example.com', 'a.b.c-d', '1.2.3.4', 'a'.repeat(253), ('a'.repeat(63) + '.').repeat(3) + 'a'.repeat(61)]) {
      assert.deepEqual(isDNS1123Subdomain(ok), [], ok);
    }
  });

  it('isDNS1123Subdomain rejects with upstream messages', () => {
    for (const bad of ['', 'A', 'a_b', '-a', 'a-', 'a..b', '.a', 'a.', 'é', 'a b', 'web\n']) {
      assert.deepEqual(isDNS1123Subdomain(bad), [SUBDOMAIN_MSG], JSON.stringify(bad));
    }
    assert.deepEqual(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
    assert.deepEqual(isDNS1123Subdomain('A'.repeat(254)), ['must be no more than 253 characters', SUBDOMAIN_MSG]);
  });

  it('isDNS1123Label rejects dots with a short message and long names by length', () => {
    assert.deepEqual(isDNS1123Label('my-name'), []);
    assert.deepEqual(isDNS1123Label('123-abc'), []);
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('My-Name'), [LABEL_MSG]);
    assert.deepEqual(isDNS1123Label(''), [LABEL_MSG]);
    assert.deepEqual(isDNS1123Label('a'.repeat(63)), []);
    assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  });

  it('isDNS1035Label requires a leading letter', () => {
    assert.deepEqual(isDNS1035Label('abc-123'), []);
    assert.deepEqual(isDNS1035Label('1abc'), [DNS1035_MSG]);
    assert.deepEqual(isDNS1035Label('a.b'), [DNS1035_MSG]);
  });
});

describe('qualified names, label values and annotations', () => {
  it('isQualifiedName checks the optional prefix and the 63-character name', () => {
    for (const ok of ['app', 'App_1', 'my.name', 'example.com/MyName', 'k8s.io/a-b_c.d', 'a'.repeat(63), 'x.y/' + 'a'.repeat(63)]) {
      assert.deepEqual(isQualifiedName(ok), [], ok);
    }
    assert.deepEqual(isQualifiedName('-app'), [NAME_PART_MSG]);
    assert.deepEqual(isQualifiedName(''), ['name part must be non-empty', NAME_PART_MSG]);
    assert.deepEqual(isQualifiedName('/a'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('Example.com/a'), ['prefix part ' + SUBDOMAIN_MSG]);
    assert.deepEqual(isQualifiedName('a'.repeat(64)), ['name part must be no more than 63 characters']);
    assert.deepEqual(isQualifiedName('a/b/c')[0].startsWith('a qualified name must consist of'), true);
    assert.match(isQualifiedName('a/b/c')[0], / with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
  });

  it('counts lengths in UTF-8 bytes as Go does', () => {
    assert.equal(byteLength('abc'), 3);
    assert.equal(byteLength('é'), 2);
    assert.equal(byteLength('☃'), 3);
    assert.equal(byteLength('😀'), 4);
  });

  it('isValidLabelValue allows empty and rejects bad syntax and length', () => {
    assert.deepEqual(isValidLabelValue(''), []);
    assert.deepEqual(isValidLabelValue('v1.2_3-x'), []);
    assert.equal(isValidLabelValue('-x').length, 1);
    assert.equal(isValidLabelValue('a b').length, 1);
    assert.equal(isValidLabelValue('ü').length, 1);
    assert.deepEqual(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
  });

  it('annotation keys are compared lower-cased and sizes summed in bytes', () => {
    assert.deepEqual(isValidAnnotationKey('Example.COM/Key'), []);
    assert.equal(isValidAnnotationKey('bad key').length, 1);
    assert.equal(annotationsSize({ a: 'bc', 'é': '☃' }), 3 + 2 + 3);
  });
});

describe('name rules', () => {
  it('validateName applies the kind rule, masking a trailing dash for generateName', () => {
    assert.deepEqual(validateName('subdomain', 'web-'), [SUBDOMAIN_MSG]);
    assert.deepEqual(validateName('subdomain', 'web-', true), []);
    assert.deepEqual(validateName('label', 'a.b'), ['must not contain dots']);
    assert.deepEqual(validateName('dns1035', '1svc'), [DNS1035_MSG]);
    assert.deepEqual(validateName('path-segment', '..'), ["may not be '..'"]);
    assert.deepEqual(validateName('path-segment', 'a/b%c'), ["may not contain '/'", "may not contain '%'"]);
    assert.deepEqual(validateName('path-segment', 'Any Name:Ok'), []);
    assert.deepEqual(validateName('none', ''), []);
  });

  it('isValidPathSegmentName allows dots in prefixes', () => {
    assert.deepEqual(isValidPathSegmentName('.', true), []);
    assert.deepEqual(isValidPathSegmentName('.', false), ["may not be '.'"]);
  });
});
