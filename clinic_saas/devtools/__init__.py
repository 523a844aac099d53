"""Tools for developers and tests only: nothing in the running application imports them."""
