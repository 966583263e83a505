"""Insight out: the figures of a pipeline's receivables and what its ladder achieves."""
