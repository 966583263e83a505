"""CSV source plugin (placeholder)."""
