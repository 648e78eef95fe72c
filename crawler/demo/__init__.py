"""The bundled demo newspaper and the small HTTP server that serves whole local sites
(for `make demo`, the tests and the benchmarks)."""
