@echo off
rem Removes the tocdo agent (run as administrator). The data in %ProgramData%\tocdo is kept;
rem "uninstall.cmd -Purge" removes it too.
setlocal
net session >nul 2>&1
if errorlevel 1 (
  echo uninstall.cmd must run as administrator: right-click it and choose "Run as administrator".
  pause
  exit /b 1
)
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0uninstall.ps1" %*
exit /b %ERRORLEVEL%
