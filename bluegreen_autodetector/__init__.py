"""Split backward-incompatible migrations for blue-green and rolling deploys."""
