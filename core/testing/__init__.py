"""Conformance kits that prove a plugin honours dunning's contracts (in-tree or third-party)."""
