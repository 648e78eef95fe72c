"""Configuration as users write it: `sites.toml` (validated on load, the key named in
every error), schedules (`every 30m`, cron) and times (`7d`, `2026-11-01`)."""
