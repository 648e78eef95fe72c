"""The Scrapy project package: settings, the CLI and, later, items, middlewares and pipelines."""
