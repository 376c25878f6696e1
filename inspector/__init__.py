"""Durable Task Inspector: command line and terminal UI."""
