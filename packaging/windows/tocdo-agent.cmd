@echo off
rem tocdo-agent: runs the bundled agent with the node.exe beside it. Commands act on the
rem service's data in %ProgramData%\tocdo unless TOCDO_AGENT_DATA_DIR or --data-dir says otherwise.
setlocal
if not defined TOCDO_AGENT_DATA_DIR set "TOCDO_AGENT_DATA_DIR=%ProgramData%\tocdo"
"%~dp0node.exe" "%~dp0tocdo-agent.mjs" %*
exit /b %ERRORLEVEL%
