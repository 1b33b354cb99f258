"""matcher: matchmaking and recommendations for Saxony's innovation ecosystem."""

__version__ = "0.1.0"
