"""survey-service: the county 社会认可度 survey, from QR link to weighted result."""

__version__ = "0.1.0"
