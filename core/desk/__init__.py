"""The web call desk (``dunning desk``): the call list and outcome form in a browser."""
