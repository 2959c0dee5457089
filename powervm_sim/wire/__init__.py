"""The wire format: Atom envelopes and UOM/web XML, rendered and parsed."""
