"""Trained digit-classifier weights (a package only so that the files ship in a wheel)."""
