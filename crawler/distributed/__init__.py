"""Site runs spread over many machines: published to a Celery broker, run by workers.

The archive's `crawl_runs` table is the record (storage.run_queue); the broker only
carries the runs. See docs/deploy.md.
"""
