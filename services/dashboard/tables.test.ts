/** A table view's pages as the browser gets them, over a resource table without a cluster. */
import assert from 'node:assert/strict';
import { TableView, type Page, type ResourceTable, type Row } from './tables.js';

/** A resource table whose sync the test ends, and whose rows it adds. */
function fakeTable() {
  let synced = false;
  let endSync!: () => void;
  const sync = new Promise<void>((r) => (endSync = r));
  const listeners = new Set<(old: Row | undefined, row: Row | undefined) => void>();
  const rows = new Map<string, Row>();
  const table = {
    columns: [{ name: 'Name', type: 'text' }],
    rows,
    listen: (l: (old: Row | undefined, row: Row | undefined) => void) => (listeners.add(l), () => listeners.delete(l)),
    hasSynced: () => synced,
    informer: { waitForSync: () => sync },
  } as unknown as ResourceTable;
  return {
    table,
    sync: () => ((synced = true), endSync()),
    add: (name: string) => {
      const row: Row = { key: name, namespace: '', name, labels: undefined, cells: [name] };
      rows.set(name, row);
      for (const l of listeners) l(undefined, row);
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 20));
/** Waits (at most 2 s: the views send from timers) until ok() holds. */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await settle();
}

describe('dashboard: table views', () => {
  it('says an empty list is synced once its informer synced', async () => {
    const t = fakeTable();
    const pages: Page[] = [];
    const view = new TableView(t.table, {}, (json) => pages.push(JSON.parse(json)), 0);
    await until(() => pages.length > 0);
    assert.deepEqual(pages, [{ total: 0, offset: 0, rows: [], synced: false }]);
    t.sync();
    await until(() => pages.at(-1)!.synced);
    assert.deepEqual(pages.at(-1), { total: 0, offset: 0, rows: [], synced: true });
    view.close();
  });

  it('sends the rows that came while listing, then the same rows synced', async () => {
    const t = fakeTable();
    const pages: Page[] = [];
    const view = new TableView(t.table, {}, (json) => pages.push(JSON.parse(json)), 0);
    t.add('b');
    t.add('a');
    await until(() => pages.length > 0);
    assert.deepEqual(pages.at(-1)!.rows.map((r) => r.name), ['a', 'b']);
    assert.equal(pages.at(-1)!.synced, false);
    t.sync();
    await until(() => pages.at(-1)!.synced);
    assert.deepEqual(pages.at(-1), { ...pages.at(-2), synced: true });
    view.close();
  });

  it('sends nothing once closed, even when its informer syncs later', async () => {
    const t = fakeTable();
    const pages: Page[] = [];
    const closed = new TableView(t.table, {}, (json) => pages.push(JSON.parse(json)), 0);
    await until(() => pages.length > 0);
    closed.close();
    t.add('a');
    t.sync();
    await settle();
    await settle();
    assert.deepEqual(pages, [{ total: 0, offset: 0, rows: [], synced: false }]);
  });
});
