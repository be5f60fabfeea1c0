"""The conversations of this capability, one module per flow."""
