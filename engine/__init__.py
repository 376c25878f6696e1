"""Headless replay engine for Durable Task orchestrations (no Textual, no Rich)."""
