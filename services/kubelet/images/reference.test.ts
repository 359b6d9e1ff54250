import assert from 'node:assert/strict';
import { InvalidImageReferenceError, defaultPullPolicy, familiarName, normalizeImage, normalizeImageReference, parseImageReference } from './reference.js';

const DIGEST = 'sha256:' + 'ab'.repeat(32);

describe('image references', () => {
  it('normalises short names as Docker does', () => {
    const cases: Array<[string, string]> = [
      ['busybox', 'docker.io/library/busybox:latest'],
      ['busybox:1.36', 'docker.io/library/busybox:1.36'],
      ['library/busybox', 'docker.io/library/busybox:latest'],
      ['docker.io/busybox', 'docker.io/library/busybox:latest'],
      ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
      ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
      ['a/b/c', 'docker.io/a/b/c:latest'],
      ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
      ['localhost:5000/app', 'localhost:5000/app:latest'],
      ['localhost/app:v1', 'localhost/app:v1'],
      ['127.0.0.1:5000/team/app:v1.2_rc-3', '127.0.0.1:5000/team/app:v1.2_rc-3'],
      ['[::1]:5000/app', '[::1]:5000/app:latest'],
      ['Registry/app', 'Registry/app:latest'],
      ['my_app.v2__x--y', 'docker.io/library/my_app.v2__x--y:latest'],
    ];
    for (const [input, want] of cases) assert.equal(normalizeImageReference(input), want, input);
  });

  it('keeps a digest and adds no tag to it; keeps a tag beside a digest', () => {
    assert.equal(normalizeImageReference(`busybox@${DIGEST}`), `docker.io/library/busybox@${DIGEST}`);
    assert.equal(normalizeImageReference(`localhost:5000/app:v1@${DIGEST}`), `localhost:5000/app:v1@${DIGEST}`);
    assert.deepEqual(parseImageReference(`localhost:5000/app@${DIGEST}`), { domain: 'localhost:5000', path: 'app', digest: DIGEST });
  });

  it('splits domain, path and tag', () => {
    assert.deepEqual(parseImageReference('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
    assert.deepEqual(parseImageReference('localhost:5000/x/y:z'), { domain: 'localhost:5000', path: 'x/y', tag: 'z' });
  });

  it('refuses what is no image name, with the reason', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /at least one component/],
      ['BusyBox', /must be lowercase/],
      ['docker.io/Library/busybox', /must be lowercase/],
      ['busybox:', /invalid tag format/],
      ['busybox:-x', /invalid tag format/],
      ['busybox@sha256:12', /invalid digest format/],
      ['a//b', /invalid reference format/],
      ['-a', /invalid reference format/],
      ['a-', /invalid reference format/],
      ['host:port/app', /invalid registry host/],
      ['ab'.repeat(32), /64 hexadecimal/],
      ['x/' + 'a'.repeat(260), /not be more than 255/],
    ];
    for (const [input, why] of bad) {
      assert.throws(() => parseImageReference(input), (e: unknown) => e instanceof InvalidImageReferenceError && why.test(e.message), JSON.stringify(input));
    }
  });

  it('gives the familiar short name', () => {
    assert.equal(familiarName(parseImageReference('busybox')), 'busybox');
    assert.equal(familiarName(parseImageReference('bitnami/redis')), 'bitnami/redis');
    assert.equal(familiarName(parseImageReference('localhost:5000/app')), 'localhost:5000/app');
  });

  it('defaults the pull policy by the tag, as the apiserver does', () => {
    assert.equal(defaultPullPolicy('busybox'), 'Always');
    assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
    assert.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent');
    assert.equal(defaultPullPolicy(`busybox@${DIGEST}`), 'IfNotPresent');
  });

  it('names images in status as containerd does, and keeps a reference that does not parse as written', () => {
    assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImage('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
    assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.equal(normalizeImage('Not An Image'), 'Not An Image');
  });
});
