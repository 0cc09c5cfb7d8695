/**
 * The agent's service definitions, written once: the .deb, the Linux tarball's install.sh and
 * `tocdo-agent install-service` all produce the systemd unit from `systemdUnit()`, and the
 * Windows zip's install.ps1 and `install-service` on Windows register the Task Scheduler task
 * from `windowsTaskXml()` (docs/agent.md, "Building the packages").
 */
export const SERVICE_NAME = 'tocdo-agent'
export const SERVICE_USER = 'tocdo'
export const LINUX_DATA_DIR = '/var/lib/tocdo-agent'
/** Windows data dir, relative to %ProgramData%. */
export const WINDOWS_DATA_SUBDIR = 'tocdo'
/** Written into the data dir to ask the Windows supervisor for a clean stop (uninstall.ps1, install.ps1 on upgrade). */
export const STOP_REQUEST_FILE = 'stop-request'
/** Well-known SIDs: NT AUTHORITY\LocalService and BUILTIN\Administrators. */
export const LOCAL_SERVICE_SID = 'S-1-5-19'
export const ADMINISTRATORS_SID = 'S-1-5-32-544'

/** systemd quotes: "..." with backslash escapes, and % doubled (specifier). */
function systemdQuote (arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) && !arg.includes('%')
    ? arg
    : '"' + arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%') + '"'
}

/**
 * The hardened unit. Restart=on-failure: the agent exits 0 after `systemctl stop` (SIGTERM)
 * and after a decommission, so neither is restarted; a crash or a non-zero exit is, after
 * 30 s. ConditionPathExists keeps an installed but not yet enrolled agent from failing in a
 * loop: the service starts once `tocdo-agent enroll` has written identity.json.
 */
export function systemdUnit ({ execStart, dataDir = LINUX_DATA_DIR, user = SERVICE_USER }: { execStart: readonly string[], dataDir?: string, user?: string }): string {
  const stateDir = dataDir.startsWith('/var/lib/') ? dataDir.slice('/var/lib/'.length) : null
  return `[Unit]
Description=tocdo broadband measurement agent
After=network-online.target
Wants=network-online.target
ConditionPathExists=${dataDir}/identity.json

[Service]
Type=simple
User=${user}
Group=${user}
Environment=TOCDO_AGENT_DATA_DIR=${systemdQuote(dataDir)}
ExecStart=${execStart.map(systemdQuote).join(' ')} run
Restart=on-failure
RestartSec=30
TimeoutStopSec=20
${stateDir !== null ? `StateDirectory=${stateDir}\nStateDirectoryMode=0750\n` : `ReadWritePaths=${systemdQuote(dataDir)}\n`}UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
SystemCallFilter=@system-service
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK

[Install]
WantedBy=multi-user.target
`
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** One Windows command-line argument (CommandLineToArgvW rules). */
function winQuote (arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg
  return '"' + arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1') + '"'
}

/**
 * The Task Scheduler task (schema 1.2, Windows 7 and later). It starts at boot with no one
 * logged on, as LocalService with least privilege, runs without the default 72-hour limit
 * (ExecutionTimeLimit PT0S), and never twice. It runs `tocdo-agent service`, the supervisor
 * that restarts the agent after a failure and not after an exit 0 (a deliberate stop or a
 * decommission), and rotates its logs: Task Scheduler's own RestartOnFailure covers only a
 * task that fails to start, so it is kept as the outer guard.
 */
export function windowsTaskXml ({ node, script, dataDir, userSid = LOCAL_SERVICE_SID }: { node: string, script: string, dataDir: string, userSid?: string }): string {
  const args = [script, 'service', '--data-dir', dataDir].map(winQuote).join(' ')
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>tocdo broadband measurement agent: measures this line and sends the results to the provincial collector.</Description>
    <URI>\\${SERVICE_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Delay>PT1M</Delay>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${userSid}</UserId>
      <LogonType>ServiceAccount</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xmlEscape(node)}</Command>
      <Arguments>${xmlEscape(args)}</Arguments>
    </Exec>
  </Actions>
</Task>
`
}

/** The XML as Task Scheduler's schtasks /XML reads it: UTF-16 LE with a byte-order mark and CRLF line ends. */
export function utf16le (text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf16le')])
}
