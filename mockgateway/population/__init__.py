"""A synthetic insured population calibrated to published statistics (docs/population.md)."""
