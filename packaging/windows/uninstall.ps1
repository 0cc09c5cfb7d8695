<#
.SYNOPSIS
Removes the tocdo agent. The data in %ProgramData%\tocdo is kept unless -Purge is given.
#>
param([switch]$Purge)
$ErrorActionPreference = 'Stop'
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run uninstall.cmd as administrator.'
}
$dest = Join-Path $env:ProgramFiles 'tocdo-agent'
$data = Join-Path $env:ProgramData 'tocdo'
if (Get-ScheduledTask -TaskName 'tocdo-agent' -ErrorAction SilentlyContinue) {
  # Stops the agent cleanly (stop-request, then at most 20 s) and deletes the task.
  & (Join-Path $dest 'node.exe') (Join-Path $dest 'tocdo-agent.mjs') uninstall-service --data-dir $data
  if ($LASTEXITCODE -ne 0) { throw "uninstall-service failed (exit $LASTEXITCODE)" }
}
$machinePath = [Environment]::GetEnvironmentVariable('Path', 'Machine')
$kept = ($machinePath -split ';') | Where-Object { $_ -and ($_ -ne $dest) }
[Environment]::SetEnvironmentVariable('Path', ($kept -join ';'), 'Machine')
Remove-Item -Recurse -Force -Path $dest -ErrorAction SilentlyContinue
if (Test-Path $dest) { Write-Warning "Could not remove $dest completely; delete it after closing any window that uses it." }
if ($Purge) {
  Remove-Item -Recurse -Force -Path $data
  Write-Host "The tocdo agent and its data are removed."
} else {
  Write-Host "The tocdo agent is removed; its data is kept in $data."
}
