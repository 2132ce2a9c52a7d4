"""Persistence behind a small interface, so another engine can replace SQLite later."""

from mockgateway.store.base import Repository
from mockgateway.store.sqlite import SqliteRepository

__all__ = ["Repository", "SqliteRepository"]
