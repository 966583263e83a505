"""The command line, one module per group of commands; ``core/cli.py`` assembles them."""
