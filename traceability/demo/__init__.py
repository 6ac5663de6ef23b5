"""Demo data: the provinces' producers, products, lots and chains loaded by ``flask demo``."""
