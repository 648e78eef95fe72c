"""The Scrapy runtime: the project's settings and the components they name.

Downloader middlewares (one a module: `scope`, `address_guard`, `page_budget`,
`conditional_requests`, `retry_after`, `redirects`), request fingerprints, failure
classification, the archive pipeline and the run's counters, the extraction worker pool
and the window of listed pages. Each component switches itself off outside an archive
spider, so they are safe in any Scrapy project.
"""
