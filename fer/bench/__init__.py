"""Benchmarks that print figures (never timed assertions): classifier and pipeline latency
(``fer.bench.latency``, ``python -m fer bench``) and video throughput (``fer.bench.video``)."""
