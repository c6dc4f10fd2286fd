"""The product's database: the schema lives in `db`, each concern in its own module."""
