"""The school roster of a round: each school is a stratum with its populations."""
