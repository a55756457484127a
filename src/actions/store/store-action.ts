// The store action: the message is in the inbox already; the action adds its tags to those it has.
import type { StoreAction } from '../../domain/route.ts';
import type { Storage } from '../../storage/ports.ts';
import type { ActionExecutor } from '../action.ts';

export function storeAction(storage: Pick<Storage, 'setTags'>): ActionExecutor<StoreAction> {
  return {
    type: 'store',
    async execute(action, ctx) {
      if (action.tags.length === 0) return { outcome: 'succeeded', detail: 'stored' };
      const tags = [...new Set([...ctx.message.tags, ...action.tags])];
      await storage.setTags([ctx.message.id], tags);
      return { outcome: 'succeeded', detail: `stored with the tags ${action.tags.join(', ')}` };
    },
  };
}
