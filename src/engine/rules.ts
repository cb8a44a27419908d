// Threshold rules: a window's rounded aggregates against configured
// thresholds, strictly greater, giving one alert text (or none).

import { compareDecimal, type Decimal, type Units } from './decimal.ts';

export interface PairRule {
  /** Alert when both values cross, only the first, only the second. */
  both: string;
  first: string;
  second: string;
}

export function exceeds(units: Units, scale: number, threshold: Decimal): boolean {
  return compareDecimal(units, scale, threshold.units, threshold.scale) > 0;
}

export function pairAlert(rule: PairRule, first: boolean, second: boolean): string {
  if (first && second) return rule.both;
  if (first) return rule.first;
  if (second) return rule.second;
  return '';
}

/** Which value an alert is about (for incident peaks): 0 for the first metric, 1 for the second. */
export function alertSubject(rule: PairRule, alert: string): 0 | 1 {
  return alert === rule.second ? 1 : 0;
}
