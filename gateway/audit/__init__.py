"""The hash-chained audit log, its vocabulary, and the trace of a message read from it."""
