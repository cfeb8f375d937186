"""Accounts: the user table and the roles, shared by authentication (auth) and administration
(users) below every domain."""
