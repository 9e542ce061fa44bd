"""Built-in adapters, one module per labeled source (installed as vstar_data.adapters)."""
