"""Running crawls: one command's crawls in one process, the site leases that keep two
crawls of a site apart, the live counters, the exit statuses the command line and the
scheduler share, and the project's `scrapy crawl`."""
