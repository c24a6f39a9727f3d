"""payments: Stripe Checkout sessions and the verified Stripe webhook, publishing payment events."""
