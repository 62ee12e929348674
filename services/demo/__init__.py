"""The seeded demo shop: its generated data, its set-up on a backend, and the cold-start story."""
