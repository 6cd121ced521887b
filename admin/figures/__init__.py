"""Figures for the agency: monthly aggregates counted by SQL, shares with Wilson intervals,
indicators against targets, exports and the historic import."""
