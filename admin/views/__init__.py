"""Request handlers of the staff panel, one module per area."""
