// Property tests: on random small datasets the CLI's outputs (window rows,
// incidents, rejects) equal the reference implementation's
// (test/support/reference-metrics.ts), combined and per-topic input, with
// and without --trim-leading, with default and random thresholds.
import { test } from 'node:test';
import { checkJobAgainstReference } from './properties.ts';

test('cpu-mem, combined input: the CLI equals the reference on random datasets', () => checkJobAgainstReference('cpu-mem', false));
test('cpu-mem, per-topic input: the CLI equals the reference on random datasets', () => checkJobAgainstReference('cpu-mem', true));
