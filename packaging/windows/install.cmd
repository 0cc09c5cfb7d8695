@echo off
rem Installs the tocdo agent: right-click, "Run as administrator". Optional arguments:
rem   install.cmd -Collector https://collector.example -Code ABCD-EFGH
rem Without them the installer asks for the collector address and the enrolment code.
setlocal
net session >nul 2>&1
if errorlevel 1 (
  echo install.cmd must run as administrator: right-click it and choose "Run as administrator".
  pause
  exit /b 1
)
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0install.ps1" %*
set "rc=%ERRORLEVEL%"
if not "%rc%"=="0" pause
exit /b %rc%
