"""Aqualine: a customer-service hotline for water utilities."""

__version__ = "0.1.0"
