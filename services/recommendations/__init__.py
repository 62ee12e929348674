"""What campaigns recommend: users side by side, the cold-start duplication report, live events."""
