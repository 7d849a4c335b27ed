"""pygcrt's benchmarks: each in benchmarks/<name>/, the head-to-head runner in run.py."""
