"""The mail domain: accounts, provider detection, IMAP and SMTP adapters. Never imports Flask."""
