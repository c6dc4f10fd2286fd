"""Dialogue components of the product (Rasa policies)."""
