"""Inspections: a centre's audit visits, their checklists, findings, photos and follow-up."""
