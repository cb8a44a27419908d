// Property tests: on random small datasets the CLI's outputs (window rows,
// incidents, rejects) equal the reference implementation's
// (test/support/reference-metrics.ts), combined and per-topic input, with
// and without --trim-leading, with default and random thresholds, with the
// input read in the main thread (small inputs' default) or a second one.
import { test } from 'node:test';
import { checkJobAgainstReference } from './properties.ts';

test('net-disk, combined input: the CLI equals the reference on random datasets', () => checkJobAgainstReference('net-disk', false));
test('net-disk, per-topic input: the CLI equals the reference on random datasets', () => checkJobAgainstReference('net-disk', true));
test('net-disk, combined input, read in a second thread (--threads 2): the CLI equals the reference on random datasets', () => checkJobAgainstReference('net-disk', false, 2));
test('net-disk, per-topic input, read in a second thread (--threads 2): the CLI equals the reference on random datasets', () => checkJobAgainstReference('net-disk', true, 2));
