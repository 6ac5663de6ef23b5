"""Centres, producers, locations, products and certifications."""
