"""Benchmarks: `python -m bench.load` (the gateway end to end), `python -m bench.bus_local`."""
