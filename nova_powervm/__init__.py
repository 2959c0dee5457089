"""OpenStack Nova compute driver for IBM PowerVM through NovaLink."""
