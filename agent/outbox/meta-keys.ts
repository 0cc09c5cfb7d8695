/** Outbox meta keys `tocdo-agent status` reads: the last stored test, and the route the service uses to reach the collector. */
export const LAST_TEST_META = 'lastTest'
export const COLLECTOR_ROUTE_META = 'collectorRoute'
