"""Payments (RULES.md §5): plans and methods, pre-authorized debit details, the 10-day rule,
collection with the three-strike rule, refund settlement and the premium ledger (`rules`, pure);
card numbers kept out of requests and logs (`cards`); account numbers encrypted at rest and shown
masked (`account_crypto`)."""
