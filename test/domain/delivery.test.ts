import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterAction,
  type DeliveryState,
  groupByDomain,
  type QueueAction,
} from '../../src/domain/delivery.ts';

describe('deliveries', () => {
  it('groups recipients by lower-cased domain in first-seen order', () => {
    const groups = groupByDomain(['a@One.example', 'b@two.example', 'c@one.EXAMPLE', 'd@x@three.example']);
    assert.deepEqual(
      [...groups],
      [
        ['one.example', ['a@One.example', 'c@one.EXAMPLE']],
        ['two.example', ['b@two.example']],
        ['three.example', ['d@x@three.example']],
      ],
    );
  });

  it('allows operator actions only from waiting states', () => {
    const states: DeliveryState[] = [
      'queued',
      'sending',
      'deferred',
      'held',
      'delivered',
      'bounced',
      'expired',
      'cancelled',
    ];
    const actions: QueueAction[] = ['hold', 'release', 'retry', 'cancel'];
    const table = Object.fromEntries(actions.map((a) => [a, states.map((s) => afterAction(s, a))]));
    assert.deepEqual(table, {
      hold: ['held', null, 'held', null, null, null, null, null],
      release: [null, null, null, 'queued', null, null, null, null],
      retry: ['queued', null, 'deferred', null, null, null, null, null],
      cancel: ['cancelled', null, 'cancelled', 'cancelled', null, null, null, null],
    });
  });
});
