"""The one service lifecycle every paybus service runs on: entry point, settings, health, supervision."""
