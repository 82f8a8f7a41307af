"""Service items with the eight published fields, their search, and the 26-module registry.

Pure logic and data: no Kivy, no I/O beyond reading the catalog file.
"""
from kiosk.catalog.errors import CatalogDuplicateError, CatalogError, CatalogFieldError, CatalogFileError
from kiosk.catalog.items import Catalog, FormField, ItemCode, Material, ServiceItem
from kiosk.catalog.loader import BUNDLED, CatalogStore, load_catalog
from kiosk.catalog.search import CatalogSearch

__all__ = ["BUNDLED", "Catalog", "CatalogDuplicateError", "CatalogError", "CatalogFieldError",
           "CatalogFileError", "CatalogSearch", "CatalogStore", "FormField", "ItemCode", "Material",
           "ServiceItem", "load_catalog"]
