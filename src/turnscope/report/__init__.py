"""Reports over the local store: queries, the terminal report, and latency budgets."""
