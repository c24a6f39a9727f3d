"""`make bench`: throughput figures measured side by side in one run (medians)."""
