"""The Moneybird source plugin (in progress)."""
