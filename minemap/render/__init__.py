"""Rendering: the interactive folium map and its offline assets."""
