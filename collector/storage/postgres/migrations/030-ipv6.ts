/**
 * 030 on PostgreSQL: the agencies' public services and the IPv6 service prober's checks, as
 * SQLite's 030 (docs/domain.md §6.2). Every prober run is kept, one row per check and target.
 */
export const sql = `
CREATE TABLE agency_service (
  agency_id           TEXT PRIMARY KEY REFERENCES agency (id),
  portal_host         TEXT,   -- e-portal (cổng thông tin điện tử)
  public_service_host TEXT,   -- public-service portal (dịch vụ công)
  mail_domain         TEXT,   -- the domain whose MX hosts carry the agency's mail
  dns_zone            TEXT,   -- the zone to check NS and DNSSEC on; NULL = found from the portal host's SOA
  updated_at          BIGINT NOT NULL
);

CREATE TABLE ipv6_check (
  run_id     TEXT NOT NULL,      -- ULID of one prober run for one agency
  agency_id  TEXT NOT NULL REFERENCES agency (id),
  check_name TEXT NOT NULL CHECK (check_name IN ('web_aaaa', 'https_v6', 'ns_v6', 'mx_v6', 'dnssec')),
  target     TEXT NOT NULL,      -- host, mail domain or zone checked; '' when nothing was configured
  colour     TEXT NOT NULL CHECK (colour IN ('green', 'yellow', 'red', 'gray')),
  reason     TEXT NOT NULL,
  evidence   TEXT NOT NULL,      -- JSON
  checked_at BIGINT NOT NULL,    -- epoch ms, collector clock
  PRIMARY KEY (run_id, check_name, target)
);
CREATE INDEX ipv6_check_agency ON ipv6_check (agency_id, checked_at);
`
