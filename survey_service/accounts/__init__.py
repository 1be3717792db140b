"""Console accounts (控制台账号): bureau staff and school operators, their sessions and login throttling."""
