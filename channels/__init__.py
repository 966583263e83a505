"""Channel plugins shipped with dunning: one package or module per channel kind."""
