"""Example DAGs that ship with cnpii (listed by the provider metadata)."""
