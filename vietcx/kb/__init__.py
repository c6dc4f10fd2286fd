"""The FAQ knowledge base: loading and validating the staff-edited file, searching it, reloading."""
