"""What every HTTP surface shares: error responses and bodies, security headers, responses, OpenAPI."""
