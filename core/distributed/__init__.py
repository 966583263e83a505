"""Distributed mode: pipeline runs as procrastinate jobs on the ledger's PostgreSQL (extra
``distributed``)."""
