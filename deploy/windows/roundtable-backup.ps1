# A backup of Roundtable's SQLite files (the database and its inbox), for Task Scheduler:
#   schtasks /Create /TN "Roundtable backup" /SC DAILY /ST 02:30 /RU SYSTEM
#     /TR "powershell -NoProfile -ExecutionPolicy Bypass -File C:\Roundtable\deploy\windows\roundtable-backup.ps1"
# Keeps 30 days. With PostgreSQL, use pg_dump instead (docs/operations.md).
$ErrorActionPreference = "Stop"
$data = "C:\ProgramData\Roundtable"
$backups = Join-Path $data "backups"
Set-Location $data
$stamp = Get-Date -Format "yyyy-MM-ddTHHmm"
& "C:\Roundtable\.venv\Scripts\roundtable.exe" db backup (Join-Path $backups "roundtable-$stamp.db")
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Get-ChildItem $backups -Filter "roundtable-*.db" |
    Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-30) } |
    Remove-Item
