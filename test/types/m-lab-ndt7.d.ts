// Minimal types for @m-lab/ndt7 0.1.x (src/ndt7.js), which ships none. Only what tocdo's
// tests use; field names follow the library's callback payloads.
declare module '@m-lab/ndt7' {
  namespace ndt7 {
    interface Config {
      /** host[:port] of an ndt7 server; skips M-Lab's locate service. */
      server?: string
      protocol?: 'ws' | 'wss'
      metadata?: Record<string, string>
      userAcceptedDataPolicy?: boolean
      mlabDataPolicyInapplicable?: boolean
      /** Passed verbatim to `new Worker(...)`. */
      downloadworkerfile?: string
      uploadworkerfile?: string
      loadbalancer?: string
      clientRegistrationToken?: string
    }
    interface ClientMeasurement {
      /** seconds */
      ElapsedTime: number
      NumBytes: number
      MeanClientMbps: number
    }
    interface MeasurementEvent {
      Source: 'client' | 'server'
      /** ClientMeasurement for 'client'; the parsed server JSON for 'server'. */
      Data: unknown
    }
    interface CompleteEvent {
      LastClientMeasurement?: ClientMeasurement
      LastServerMeasurement?: unknown
    }
    interface Callbacks {
      error?: (err: unknown) => void
      serverDiscovery?: (info: { loadbalancer: URL }) => void
      serverChosen?: (server: unknown) => void
      downloadStart?: (data: unknown) => void
      downloadMeasurement?: (m: MeasurementEvent) => void
      downloadComplete?: (c: CompleteEvent) => void
      uploadStart?: (data: unknown) => void
      uploadMeasurement?: (m: MeasurementEvent) => void
      uploadComplete?: (c: CompleteEvent) => void
    }
    type Urls = Record<string, string>
  }
  const ndt7: {
    discoverServerURLs: (config: ndt7.Config, callbacks?: ndt7.Callbacks) => Promise<ndt7.Urls>
    downloadTest: (config: ndt7.Config, callbacks: ndt7.Callbacks, urls: Promise<ndt7.Urls>) => Promise<number>
    uploadTest: (config: ndt7.Config, callbacks: ndt7.Callbacks, urls: Promise<ndt7.Urls>) => Promise<number>
    /** Download then upload; 0 on success (upload failures are shifted left by 4). */
    test: (config: ndt7.Config, callbacks?: ndt7.Callbacks) => Promise<number>
  }
  export = ndt7
}
