"""turnscope benchmarks: run them all with ``python -m benchmarks``."""
