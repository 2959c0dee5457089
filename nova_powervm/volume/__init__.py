"""Volumes (cinder): what the host offers storage back ends."""
