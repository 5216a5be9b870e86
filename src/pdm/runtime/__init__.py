"""Process runtime: supervising the services of `pdm up`."""
