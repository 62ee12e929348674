"""Online evaluation: a simulated shop, and what each campaign earned (impressions, clicks, purchases)."""
