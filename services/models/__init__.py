"""Models: solutions and their versions, campaigns and their health, and comparing recipes' metrics."""
