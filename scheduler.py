"""The APScheduler service that runs each site's crawl on its schedule.

Nothing is scheduled yet: this module is built by the scheduling issue, after the crawl
pipeline exists. The layout reserves its place at the top of the project.
"""
