"""Transports: each turns its platform's updates into neutral messages and back."""
