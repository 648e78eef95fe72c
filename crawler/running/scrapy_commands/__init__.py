"""The project's Scrapy commands (COMMANDS_MODULE): Scrapy's own, with newsarchive's
checks made before Scrapy starts its engine."""
