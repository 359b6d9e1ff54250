/**
 * The calls ({op: 'call'}) beyond actions.ts's changes: discovery's resources, global
 * search, rollout history and undo, a Secret's value. Search reads the session's tables,
 * so these take the whole session context; anything else goes to actions.ts.
 */
import { call as action } from './actions.js';
import { listableResources } from './discovery.js';
import { rolloutHistory, rolloutUndo } from './rollout.js';
import { search } from './search.js';
import { secretValue } from './secrets.js';
import type { SessionContext } from './session.js';

export async function call(ctx: SessionContext, method: string, args: any): Promise<unknown> {
  switch (method) {
    case 'resources':
      return { resources: await listableResources(ctx.client) };
    case 'search':
      return await search(ctx.client, ctx.tables, args ?? {});
    case 'rolloutHistory':
      return await rolloutHistory(ctx.client, args);
    case 'rolloutUndo':
      return await rolloutUndo(ctx.client, args);
    case 'secretValue':
      return await secretValue(ctx.client, args);
    default:
      return await action(ctx.client, method, args);
  }
}
