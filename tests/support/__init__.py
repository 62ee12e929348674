"""Shared test support: the engine process, polling, a real S3 server, generated shops, AppTest set-up.

Used by the tests and by the benchmarks in bench/."""
