import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNatural } from '../../src/engine/natural-order.ts';

test('natural order compares the text before a trailing number, then the number', () => {
  const keys = ['server_10', 'server_2', 'server_1', 'alpha', 'server_', 'server', 'db-3', 'server_02', 'web1'];
  assert.deepEqual([...keys].sort(compareNatural), ['alpha', 'db-3', 'server', 'server_', 'server_1', 'server_02', 'server_2', 'server_10', 'web1']);
});
