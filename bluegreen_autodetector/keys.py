"""
The two keys the package passes around, as Django's migration code makes
them: one name each, everywhere.
"""

ModelKey = tuple[str, str]  # (app_label, lower-case model name): ProjectState.models
MigrationKey = tuple[str, str]  # (app_label, migration name): MigrationGraph.nodes
