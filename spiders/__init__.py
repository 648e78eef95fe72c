"""Spiders: the generic `news` spider and site-specific subclasses (crawl pipeline issue)."""
