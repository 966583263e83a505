"""Handing debtors over to a collection agency: the dossier, paid notices, the agency's report."""
