/**
 * The task kinds an agent knows, in the order they are listed. The registry (agent/tasks.ts)
 * holds one entry per kind; this list is apart from it so the settings schema can name the
 * kinds without loading the measurement code.
 */
export const TASK_KINDS = ['speed', 'latency', 'ipv6', 'ipv6_only'] as const
export type TaskKind = typeof TASK_KINDS[number]
