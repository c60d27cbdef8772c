"""The demo company: a realistic, deterministic sales organisation and customer base for
trying Salesplan out and for benchmarks (`salesplan demo`, `bench/bench_foundation.py`)."""
