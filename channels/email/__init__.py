"""Email channel plugin (placeholder)."""
