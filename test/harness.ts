/**
 * Test harness: a real nats-server on a free port with a fresh data folder, shared by
 * the whole mocha run (started lazily by the first suite that asks for it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNatsServer, type NatsServerHandle } from '../lib/nats/server.js';

let shared: Promise<NatsServerHandle> | undefined;
const owned: Array<{ h: NatsServerHandle; dir: string }> = [];

/** A fresh nats-server owned by the caller's suite (stop it in after()). */
export async function freshNats(): Promise<NatsServerHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-test-nats-'));
  const h = await startNatsServer({ dataDir: dir });
  owned.push({ h, dir });
  return h;
}

/** The run's shared nats-server. Use a unique bucket or prefix per suite. */
export function sharedNats(): Promise<NatsServerHandle> {
  shared ??= freshNats();
  return shared;
}

export const mochaHooks = {
  async afterAll() {
    for (const { h, dir } of owned.splice(0)) {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
