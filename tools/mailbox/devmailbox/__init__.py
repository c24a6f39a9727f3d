"""Dev-only SMTP mailbox with a web page."""
