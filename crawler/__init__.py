"""newsarchive's crawler, one subpackage per concern (the README's "Where things are"):

- `analysis`: pure functions of one fetched page, run in the extraction workers;
- `runtime`: the Scrapy project (settings, middlewares, pipeline, worker pool);
- `running`: crawls run by a command (runner, site leases, exit codes, scrapy crawl);
- `config`: sites.toml, schedules and times as users write them;
- `cli`: the `newsarchive` command line, which nothing imports;
- `demo`: the bundled demo newspaper and the local site server;
- `keys` (shared names) and `speedups` (every start-up trick, with its off switch).
"""
