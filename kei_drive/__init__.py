"""Kei Drive: a phone-first driving companion for Kei trucks and cars in the US."""
