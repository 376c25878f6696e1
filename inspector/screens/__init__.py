"""Screens of the inspector TUI."""
