<#
.SYNOPSIS
Installs or upgrades the tocdo agent from this folder.
.DESCRIPTION
Copies node.exe and the agent to %ProgramFiles%\tocdo-agent, puts tocdo-agent on the PATH,
registers the "tocdo-agent" scheduled task (at boot, as LocalService; data in
%ProgramData%\tocdo readable only by LocalService and Administrators) and enrols the agent
with the collector. An upgrade stops the running agent cleanly and keeps its data.
.EXAMPLE
.\install.ps1 -Collector https://collector.example -Code ABCD-EFGH
#>
param(
  [string]$Collector,
  [string]$Code
)
$ErrorActionPreference = 'Stop'
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run install.cmd as administrator (right-click, Run as administrator).'
}
$src = $PSScriptRoot
$dest = Join-Path $env:ProgramFiles 'tocdo-agent'
$data = Join-Path $env:ProgramData 'tocdo'
$task = 'tocdo-agent'
$enrolled = Test-Path (Join-Path $data 'identity.json')
if (-not $enrolled) {
  if (-not $Collector) { $Collector = Read-Host 'Collector address (the https:// address your province gave you)' }
  if (-not $Code) { $Code = Read-Host 'Enrolment code' }
}

# Upgrade: ask the running agent to finish its step (the supervisor watches for stop-request).
if (Get-ScheduledTask -TaskName $task -ErrorAction SilentlyContinue) {
  if (Test-Path (Join-Path $data 'agent.lock')) {
    New-Item -ItemType File -Force -Path (Join-Path $data 'stop-request') | Out-Null
    $deadline = (Get-Date).AddSeconds(20)
    while ((Test-Path (Join-Path $data 'agent.lock')) -and ((Get-Date) -lt $deadline)) { Start-Sleep -Milliseconds 500 }
  }
  Stop-ScheduledTask -TaskName $task -ErrorAction SilentlyContinue
}

New-Item -ItemType Directory -Force -Path $dest | Out-Null
foreach ($f in 'node.exe', 'tocdo-agent.mjs', 'tocdo-agent.cmd', 'uninstall.cmd', 'uninstall.ps1', 'LICENSE.node.txt', 'README.txt') {
  Copy-Item -Force -Path (Join-Path $src $f) -Destination $dest
}
$machinePath = [Environment]::GetEnvironmentVariable('Path', 'Machine')
if (($machinePath -split ';') -notcontains $dest) {
  [Environment]::SetEnvironmentVariable('Path', ($machinePath.TrimEnd(';') + ';' + $dest), 'Machine')
}
$env:Path = $env:Path + ';' + $dest

# The data dir, its ACL and the task come from the agent itself (tocdo-agent install-service).
& (Join-Path $dest 'node.exe') (Join-Path $dest 'tocdo-agent.mjs') install-service --data-dir $data
if ($LASTEXITCODE -ne 0) { throw "install-service failed (exit $LASTEXITCODE)" }
if (-not $enrolled) {
  & (Join-Path $dest 'tocdo-agent.cmd') enroll --collector $Collector --code $Code
  if ($LASTEXITCODE -ne 0) { throw "Enrolment failed (exit $LASTEXITCODE): check the address and the code, then run install.cmd again." }
}
Start-ScheduledTask -TaskName $task
Write-Host 'The tocdo agent is installed and running. Check it with: tocdo-agent status'
