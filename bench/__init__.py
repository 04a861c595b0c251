"""Benchmarks: each module runs on its own (`python -m bench.<name>`) and prints
ratios against a baseline measured in the same run; `make bench` runs them all."""
