"""Dev/test-only local Stripe stand-in."""
