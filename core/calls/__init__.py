"""Call tasks: the call list, what a credit controller needs for a call, and its outcomes."""
