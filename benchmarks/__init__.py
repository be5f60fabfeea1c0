"""Throughput and latency benchmarks, printed as numbers and ratios (never asserted)."""
