"""The collection law pack: Dutch and Belgian collection costs, statutory interest and the
14-day term, computed from rate tables shipped as data (``data/*.csv``) so that a corrected rate
needs no code change. Money is ``Decimal``; every result is rounded half-up to the cent once,
at the end of its calculation."""
