"""社会认可度 statistics: design-based estimates, intervals, planning (pure library)."""
