"""The Excel surfaces: UDFs, ribbon handlers and the .xlam add-in (thin)."""
