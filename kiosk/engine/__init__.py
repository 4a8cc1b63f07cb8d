"""The payment engine: one thread, one input queue, the session state table."""
