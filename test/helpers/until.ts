/**
 * Waits until `condition` holds, checking every `everyMs`; fails after `timeoutMs` naming
 * what it waited for. For state another process or task changes without an event to await;
 * the deadline only bounds a hang, it asserts no speed.
 */
export async function until (condition: () => boolean | Promise<boolean>, { timeoutMs = 60_000, everyMs = 20, what = 'condition' }: { timeoutMs?: number, everyMs?: number, what?: string } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
