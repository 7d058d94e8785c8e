"""The package's files on disk: the pending folder, markers, writes, companions' files, PR notes."""
