import { TIME_BAND_LABELS } from '../aggregation/time-bands.js'
import { VN_OFFSET_MS, VN_TIME_ZONE } from '../../shared/vn-time.js'

/**
 * Publication minimums (fleet-protocol.md §15). Below them a cell says "insufficient data"
 * and shows n, never a number. Deployments may change them through the report plugin's options;
 * every report prints the values in force.
 */
export interface ReportRules {
  /** i-Speed-style figures over representative samples: VNNIC's 300 samples per commune and period. */
  minRepresentativeSamples: number
  /** Cross-agent figures (median of medians, 80/80, target shares, attainment). */
  minAgents: number
  /** An agent enters the 80/80 figure and the attainment buckets only with this many office-hours samples (MBA practice). */
  minBusyHourSamplesPerAgent: number
  /** QCVN 34:2022 needs 1,000 samples per direction; below that the check is labelled indicative. */
  qcvn34MinTests: number
}

export const DEFAULT_REPORT_RULES: Readonly<ReportRules> = Object.freeze({
  minRepresentativeSamples: 300,
  minAgents: 5,
  minBusyHourSamplesPerAgent: 20,
  qcvn34MinTests: 1000
})

/** The rules in force as every report prints them. */
export type DescribedRules = ReportRules & { representativeWindow: string, timezone: string, timeBands: typeof TIME_BAND_LABELS, validity: string }

export function describeRules (rules: ReportRules): DescribedRules {
  return {
    ...rules,
    representativeWindow: '1 clock hour (ICT) per agent and time band: the median of its valid tests in that hour counts once',
    timezone: `${VN_TIME_ZONE} (UTC+${String(VN_OFFSET_MS / 3_600_000).padStart(2, '0')}:00)`,
    timeBands: TIME_BAND_LABELS,
    validity: 'only results with result.valid = 1 (kind speed, status ok, confidence not low, no disqualifying flag) enter figures; coverage counts all'
  }
}
