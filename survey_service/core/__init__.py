"""What every layer shares: settings, errors, respondent groups, caches, resources, network helpers."""
