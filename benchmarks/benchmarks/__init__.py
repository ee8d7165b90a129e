"""asv benchmark suites of renyimi (see ``benchmarks/README.md``)."""
