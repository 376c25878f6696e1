"""The panes of the ``inspector open`` screen."""
