"""Login security: throttling (django-axes), the TOTP second factor with recovery codes
(django-otp), password changes, "log out everywhere", and the audit records of signing in and out.

A Django app of its own (label accounts_security) so that its AppConfig connects the signal
receivers at start-up in every process, without touching the accounts app the lead owns.
"""
