from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aqualine.accounts.models import User
from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error, safe_int
from aqualine.core.parameters import param
from aqualine.knowledge import selectors, services
from aqualine.knowledge.forms import ArticleForm, AttachmentForm, CategoryForm, SearchForm
from aqualine.knowledge.models import Article, ArticleRevision, Attachment, Category
from aqualine.knowledge.permissions import KnowledgePerm

P = KnowledgePerm
JSON_RESULTS = 10


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- browse and search ------------------------------------------------------------------------


@require_perm(P.VIEW_ARTICLES)
def index(request: HttpRequest) -> HttpResponse:
    """Search box, the category tree, and either search results or a category's articles."""
    form = SearchForm(request.GET)
    form.is_valid()
    query = form.cleaned_data.get("q", "")
    category = form.cleaned_data.get("category")
    if category is not None and not category.is_active and not selectors.may_manage(request.user):
        category = None
    result = page = None
    if query:
        result = selectors.article_search(user=request.user, query=query, category=category)
    elif category is not None:
        page = Paginator(
            selectors.articles_in_category(user=request.user, category=category),
            param("basic.page_size"),
        ).get_page(request.GET.get("page"))
    else:
        page = Paginator(
            selectors.articles_visible_to(request.user).order_by("-updated_at", "-id"),
            param("basic.page_size"),
        ).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/index.html",
        {
            "query": query,
            "category": category,
            "path": selectors.category_path(category) if category else [],
            "tree": selectors.category_tree(user=request.user),
            "result": result,
            "page": page,
            "can_manage": selectors.may_manage(request.user),
            "can_manage_categories": request.user.has_perm(P.MANAGE_CATEGORIES),
        },
    )


@require_GET
@require_perm(P.VIEW_ARTICLES)
def search_json(request: HttpRequest) -> JsonResponse:
    """For the agent desktop: ?q=停水 → the best matches with a highlighted snippet (HTML in
    which everything but the <mark> tags is escaped)."""
    form = SearchForm(request.GET)
    form.is_valid()
    query = form.cleaned_data.get("q", "")
    limit = min(safe_int(request.GET.get("limit")) or JSON_RESULTS, selectors.MAX_RESULTS)
    result = selectors.article_search(user=request.user, query=query, limit=limit)
    return JsonResponse(
        {
            "query": query,
            "terms": list(result.query.terms),
            "count": len(result.hits),
            "truncated": result.truncated,
            "results": [
                {
                    "id": hit.pk,
                    "title": hit.title,
                    "title_html": str(hit.title_html),
                    "url": reverse("knowledge:article_detail", args=[hit.pk]),
                    "category": hit.category_name,
                    "status": hit.status,
                    "snippet_html": str(hit.snippet_html),
                    "updated_at": timezone.localtime(hit.updated_at).isoformat(),
                }
                for hit in result.hits
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )


# --- articles ---------------------------------------------------------------------------------


def _article_or_404(request: HttpRequest, pk: int) -> Article:
    article = selectors.article_get(user=request.user, pk=pk)
    if article is None:
        raise Http404
    return article


@require_perm(P.VIEW_ARTICLES)
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article_or_404(request, pk)
    terms = [t for t in request.GET.get("q", "")[:100].split() if t]
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "path": selectors.category_path(article.category),
            "attachments": article.attachments.all(),
            "can_manage": selectors.may_manage(request.user),
            "query": " ".join(terms),
        },
    )


def _article_form_data(form: ArticleForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "title": data["title"],
        "body": data["body"],
        "category": data["category"],
        "keywords": services.parse_keywords(data["keywords"]),
        "status": data["status"],
    }


@require_perm(P.MANAGE_ARTICLES)
def article_create(request: HttpRequest) -> HttpResponse:
    initial = {"category": safe_int(request.GET.get("category")), "status": Article.Status.DRAFT}
    form = ArticleForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(
                actor=_actor(request), request=request, **_article_form_data(form)
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Article saved: %(t)s") % {"t": article.title})
            return redirect("knowledge:article_edit", pk=article.pk)
    return render(request, "knowledge/article_form.html", {"form": form, "article": None})


@require_perm(P.MANAGE_ARTICLES)
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article_or_404(request, pk)
    initial = {
        "version": article.version,
        "title": article.title,
        "category": article.category_id,
        "keywords": "、".join(article.keyword_list),
        "body": article.body,
        "status": article.status,
    }
    form = ArticleForm(request.POST or None, user=request.user, article=article, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.article_update(
                actor=_actor(request),
                request=request,
                article=article,
                version=form.cleaned_data["version"],
                **_article_form_data(form),
            )
        except ValidationError as error:
            add_service_error(form, error)
        except ConflictError:
            conflict = _conflict(request, article, form)
        else:
            messages.success(request, _("Article saved: %(t)s") % {"t": article.title})
            if "stay" in request.POST:
                return redirect("knowledge:article_edit", pk=article.pk)
            return redirect("knowledge:article_detail", pk=article.pk)
    return render(
        request,
        "knowledge/article_form.html",
        {
            "form": form,
            "article": article,
            "attachments": article.attachments.all(),
            "attachment_form": AttachmentForm(),
            "conflict": conflict,
        },
    )


def _conflict(request: HttpRequest, article: Article, form: ArticleForm) -> dict[str, Any]:
    """Someone saved the article after this editor opened it. Nothing was written; the editor
    keeps their text, sees who saved what, and may save again over it knowingly (the other
    version stays in the history)."""
    article.refresh_from_db()
    latest = selectors.article_revisions(article).first()
    data = form.cleaned_data
    mine = {
        "title": data["title"],
        "keywords": ",".join(services.parse_keywords(data["keywords"])),
        "body": data["body"],
    }
    # The next save is against the version now current: the user has been told and shown it.
    if isinstance(form.data, QueryDict):
        data = form.data.copy()
        data["version"] = str(article.version)
        form.data = data
    when = timezone.localtime(latest.created_at if latest else article.updated_at)
    form.add_error(
        None,
        _(
            "%(who)s saved this article at %(when)s, after you opened it. Your changes were not "
            "saved and are still in the form below. Compare them with the current version, then "
            "save again to replace it (it stays in the history), or reload to discard yours."
        )
        % {
            "who": str(latest.author) if latest and latest.author else _("Someone"),
            "when": when.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    return {"latest": latest, "diff": selectors.revision_diff(latest, mine)}


@require_POST
@require_perm(P.MANAGE_ARTICLES)
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article_or_404(request, pk)
    title = article.title
    services.article_delete(actor=_actor(request), article=article, request=request)
    messages.success(request, _("Article deleted: %(t)s") % {"t": title})
    return redirect("knowledge:index")


# --- history ----------------------------------------------------------------------------------


@require_perm(P.MANAGE_ARTICLES)
def article_history(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article_or_404(request, pk)
    return render(
        request,
        "knowledge/history.html",
        {"article": article, "revisions": selectors.article_revisions(article)},
    )


def _revision_or_404(request: HttpRequest, pk: int) -> ArticleRevision:
    revision = get_object_or_404(ArticleRevision.objects.select_related("author"), pk=pk)
    revision.article = _article_or_404(request, revision.article_id)
    return revision


@require_perm(P.MANAGE_ARTICLES)
def revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    revision = _revision_or_404(request, pk)
    return render(
        request,
        "knowledge/revision_detail.html",
        {"revision": revision, "article": revision.article},
    )


@require_perm(P.MANAGE_ARTICLES)
def revision_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """What this revision changed from the one before it, or (?against=<revision id>) from
    another revision of the same article."""
    revision = _revision_or_404(request, pk)
    against_pk = safe_int(request.GET.get("against"))
    older: ArticleRevision | None
    if against_pk is not None:
        older = get_object_or_404(ArticleRevision, pk=against_pk, article=revision.article)
    else:
        older = selectors.revision_previous(revision)
    return render(
        request,
        "knowledge/revision_diff.html",
        {
            "revision": revision,
            "older": older,
            "article": revision.article,
            "diff": selectors.revision_diff(older, revision),
        },
    )


@require_POST
@require_perm(P.MANAGE_ARTICLES)
def revision_restore(request: HttpRequest, pk: int) -> HttpResponse:
    revision = _revision_or_404(request, pk)
    article = revision.article
    try:
        services.article_restore(
            actor=_actor(request),
            request=request,
            article=article,
            revision=revision,
            version=safe_int(request.POST.get("version")) or 0,
        )
    except ConflictError as error:
        messages.error(request, str(error))
        return redirect("knowledge:article_history", pk=article.pk)
    messages.success(
        request, _("Revision %(n)d restored as a new revision.") % {"n": revision.number}
    )
    return redirect("knowledge:article_detail", pk=article.pk)


# --- attachments ------------------------------------------------------------------------------


@require_POST
@require_perm(P.MANAGE_ARTICLES)
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article_or_404(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = services.attachment_add(
                actor=_actor(request),
                article=article,
                file=form.cleaned_data["file"],
                request=request,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(name)s attached.") % {"name": attachment.name})
            return redirect(reverse("knowledge:article_edit", args=[article.pk]) + "#attachments")
    for errors in form.errors.values():
        for text in errors:
            messages.error(request, str(text))
    return redirect(reverse("knowledge:article_edit", args=[article.pk]) + "#attachments")


@require_GET
@require_perm(P.VIEW_ARTICLES)
def attachment_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A file of an article the user may read (a draft's files only for managers)."""
    attachment = Attachment.objects.filter(
        pk=pk, article__in=selectors.articles_visible_to(request.user)
    ).first()
    if attachment is None:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    inline = attachment.content_type in services.INLINE_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline or "download" in request.GET,
        filename=attachment.name,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response  # type: ignore[return-value]


@require_POST
@require_perm(P.MANAGE_ARTICLES)
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(Attachment, pk=pk)
    article_pk = attachment.article_id
    services.attachment_delete(actor=_actor(request), attachment=attachment, request=request)
    messages.success(request, _("%(name)s removed.") % {"name": attachment.name})
    return redirect(reverse("knowledge:article_edit", args=[article_pk]) + "#attachments")


# --- categories -------------------------------------------------------------------------------


@require_perm(P.MANAGE_CATEGORIES)
def category_list(request: HttpRequest) -> HttpResponse:
    nodes = selectors.flatten(selectors.category_tree(user=request.user, include_inactive=True))
    return render(request, "knowledge/category_list.html", {"nodes": nodes})


@require_perm(P.MANAGE_CATEGORIES)
def category_create(request: HttpRequest) -> HttpResponse:
    parent_pk = safe_int(request.GET.get("parent"))
    parent = Category.objects.filter(pk=parent_pk).first() if parent_pk else None
    form = CategoryForm(
        request.POST or None, user=request.user, initial={"parent": parent.pk if parent else None}
    )
    if request.method == "POST" and form.is_valid():
        try:
            category = services.category_create(
                actor=_actor(request),
                request=request,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Category saved: %(n)s") % {"n": category.name})
            return redirect("knowledge:category_list")
    return render(request, "knowledge/category_form.html", {"form": form, "category": None})


@require_perm(P.MANAGE_CATEGORIES)
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk)
    initial = {"version": category.version, "name": category.name, "parent": category.parent_id}
    form = CategoryForm(request.POST or None, user=request.user, category=category, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(
                actor=_actor(request),
                request=request,
                category=category,
                version=form.cleaned_data["version"],
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Category saved: %(n)s") % {"n": category.name})
            return redirect("knowledge:category_list")
    return render(
        request,
        "knowledge/category_form.html",
        {
            "form": form,
            "category": category,
            "article_count": category.articles.count(),
            "child_count": category.children.count(),
        },
    )


@require_POST
@require_perm(P.MANAGE_CATEGORIES)
def category_move(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk)
    try:
        services.category_reorder(
            actor=_actor(request),
            category=category,
            direction=request.POST.get("direction", ""),
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(reverse("knowledge:category_list") + f"#category-{category.pk}")


@require_POST
@require_perm(P.MANAGE_CATEGORIES)
def category_active(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk)
    active = request.POST.get("active") == "1"
    services.category_set_active(
        actor=_actor(request), category=category, active=active, request=request
    )
    if active:
        messages.success(request, _("Category back in use: %(n)s") % {"n": category.name})
    else:
        messages.success(
            request,
            _("Category retired: %(n)s. Its articles can still be found by search.")
            % {"n": category.name},
        )
    return redirect(reverse("knowledge:category_list") + f"#category-{category.pk}")


@require_POST
@require_perm(P.MANAGE_CATEGORIES)
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk)
    try:
        services.category_delete(actor=_actor(request), category=category, request=request)
    except ValidationError as error:
        messages.error(
            request,
            _("%(n)s was not deleted: %(why)s")
            % {"n": category.name, "why": " ".join(error.messages)},
        )
    else:
        messages.success(request, _("Category deleted: %(n)s") % {"n": category.name})
    return redirect("knowledge:category_list")
