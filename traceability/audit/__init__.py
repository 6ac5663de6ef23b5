"""The hash-chained audit log: recording entries, verifying the chain, and the retention purge."""
