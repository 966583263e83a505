"""Source plugins shipped with dunning: one package per platform."""
