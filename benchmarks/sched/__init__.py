"""Schedule-point and controller benchmark (run: python -m benchmarks.sched)."""
