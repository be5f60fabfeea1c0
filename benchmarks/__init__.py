"""Throughput and latency benchmarks, printed as ratios. Run all: `python -m benchmarks`."""
