"""Detection jobs: a sortie's video or live stream analysed in the background."""
