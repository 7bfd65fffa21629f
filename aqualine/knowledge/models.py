"""The knowledge base (知识库): a category tree defined by administrators, articles with a
sanitised rich-text body, their revision history and attachments, and the search index.

Writes go through `aqualine.knowledge.services` (which sanitises, keeps a revision of every save
and refreshes the index); reads through `aqualine.knowledge.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the category tree. Inactive categories are hidden from the browse tree and are
    not offered for articles; their articles stay readable and searchable."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")
        ordering = ["sort_order", "name", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """A knowledge article. `body` is HTML sanitised on save; `body_text` its plain text (for
    search snippets and revision diffs)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    category = models.ForeignKey(
        Category,
        verbose_name=_("article category"),
        on_delete=models.PROTECT,
        related_name="articles",
    )
    # Normalised keywords joined by "," (see services.parse_keywords).
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # The long texts come last: SQLite reads the columns of a row in order, and the short ones
    # (title, keywords, status) are then read without walking the body's overflow pages.
    body = models.TextField(_("body"), blank=True)
    body_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["-updated_at", "-id"]
        default_permissions = ()
        permissions = [
            ("view_articles", _("Read and search published knowledge articles")),
            ("manage_articles", _("Write, publish and delete knowledge articles")),
            ("manage_categories", _("Manage the knowledge category tree")),
        ]
        indexes = [models.Index(fields=["category", "status"], name="knowledge_article_cat")]

    def __str__(self) -> str:
        return self.title

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.split(",") if k]

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ArticleRevision(models.Model):
    """The article as one save left it. Revision `number` equals the article's version then."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Article.Status.choices)
    category_name = models.CharField(_("article category"), max_length=100, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saved by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved at"), default=timezone.now)
    # Set when the revision brought back an older one.
    restored_from = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("article revision")
        verbose_name_plural = _("article revisions")
        ordering = ["article", "-number"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="knowledge_revision_once")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} #{self.number}"

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.split(",") if k]


class Attachment(models.Model):
    """A file attached to an article (a picture shown in the body, a PDF form, ...), served only
    through a permission-checked view."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="knowledge/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("knowledge attachment")
        verbose_name_plural = _("knowledge attachments")
        ordering = ["uploaded_at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class SearchTerm(models.Model):
    """One row of the search index: `term` (a character bigram of Chinese text, or a lowercase
    ASCII word) occurs in the article; `weight` says where (see aqualine.knowledge.search).

    Rows are rewritten by the services whenever an article is saved; `published` mirrors the
    article's status so that a search by agents needs no join."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=32)
    weight = models.PositiveSmallIntegerField()
    published = models.BooleanField()

    class Meta:
        default_permissions = ()
        indexes = [
            # Covers the search queries: equality on term (and status), the rows in weight
            # order (title hits first), and the article; see selectors._indexed_candidates.
            models.Index(
                fields=["term", "published", "weight", "article"], name="knowledge_term_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.article_id}"
