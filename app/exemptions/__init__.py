"""Exemptions from the payment of the insurance premium (RULES.md §3; guide p.23-29): the form,
its eligibility rules, the coverage that stays while exempt, and the return of premium."""
