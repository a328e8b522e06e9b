"""How the process runs: worker processes, futures on the event loop, memory tuning."""
