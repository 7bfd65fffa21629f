"""Permission names of the knowledge base, as used by code."""

from enum import StrEnum


class KnowledgePerm(StrEnum):
    VIEW_ARTICLES = "knowledge.view_articles"
    MANAGE_ARTICLES = "knowledge.manage_articles"
    MANAGE_CATEGORIES = "knowledge.manage_categories"
