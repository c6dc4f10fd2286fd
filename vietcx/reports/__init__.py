"""Exports and reports: read-only views of the product's database."""
