"""How a debtor pays: a payment link per reminder (Mollie), else the invoice's own link, else the
bank details with the payment reference."""
