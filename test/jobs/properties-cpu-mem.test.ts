// Property tests: on random small datasets the CLI's outputs (window rows,
// incidents, rejects) equal the reference implementation's
// (test/support/reference-metrics.ts), combined and per-topic input, with
// and without --trim-leading, with default and random thresholds, with the
// input read in the main thread (small inputs' default) or a second one.
import { test } from 'node:test';
import { checkJobAgainstReference } from './properties.ts';

test('cpu-mem, combined input: the CLI equals the reference on random datasets', () => checkJobAgainstReference('cpu-mem', false));
test('cpu-mem, per-topic input: the CLI equals the reference on random datasets', () => checkJobAgainstReference('cpu-mem', true));
test('cpu-mem, combined input, read in a second thread (--threads 2): the CLI equals the reference on random datasets', () => checkJobAgainstReference('cpu-mem', false, 2));
test('cpu-mem, per-topic input, read in a second thread (--threads 2): the CLI equals the reference on random datasets', () => checkJobAgainstReference('cpu-mem', true, 2));
