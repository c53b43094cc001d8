"""The workflow's core: the stage table, config and stories, artifact I/O, the backend
registry, errors and the types every layer speaks. Imports nothing else of storyreel."""
