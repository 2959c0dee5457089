"""Tests and tools on traffic recorded against real PowerVM hardware."""
