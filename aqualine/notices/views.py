from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aqualine.core.auth import require_perm
from aqualine.core.concurrency import ConflictError
from aqualine.core.forms import add_service_error
from aqualine.core.parameters import param
from aqualine.notices import selectors, services
from aqualine.notices.forms import AnnouncementForm, MyAnnouncementsFilter, NoticeTypeForm
from aqualine.notices.models import Announcement, NoticeType
from aqualine.notices.permissions import NoticesPerm
from aqualine.notices.selectors import When

# --- reading -----------------------------------------------------------------------------------


@require_perm(NoticesPerm.VIEW_NOTICES)
def mine(request: HttpRequest) -> HttpResponse:
    """ "My announcements": every announcement meant for me, unread first."""
    form = MyAnnouncementsFilter(request.GET or None)
    notice_type, when = None, When.CURRENT
    if form.is_bound and form.is_valid():
        notice_type = form.cleaned_data["notice_type"]
        when = form.cleaned_data["when"] or When.CURRENT
    announcements = selectors.my_announcements(
        user=request.user, notice_type=notice_type, when=when
    )
    page = Paginator(announcements, param("basic.page_size")).get_page(request.GET.get("page"))
    return render(
        request,
        "notices/mine.html",
        {
            "form": form,
            "page": page,
            "when": when,
            "can_publish": request.user.has_perm(NoticesPerm.PUBLISH_NOTICES),
        },
    )


@require_perm(NoticesPerm.VIEW_NOTICES)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One announcement; opening it marks it read for a recipient (the read receipt)."""
    announcement = selectors.announcement_for_reader(user=request.user, pk=pk)
    if announcement is None:
        raise Http404
    recipient = selectors.in_scope(request.user, announcement)
    if recipient and announcement.status == Announcement.Status.PUBLISHED:
        services.announcement_mark_read(user=request.user, announcement=announcement)  # type: ignore[arg-type]
    return render(
        request,
        "notices/detail.html",
        {
            "announcement": announcement,
            "current": selectors.is_current(announcement),
            "read_at": selectors.announcement_read_at(user=request.user, announcement=announcement),
            "can_manage": selectors.may_manage(request.user, announcement),
            "can_see_outages": request.user.has_perm("customers.view_customers"),
        },
    )


# --- publishing ---------------------------------------------------------------------------------


def _managed(request: HttpRequest, pk: int) -> Announcement:
    """The announcement if the user may manage it; 404 when they may not even see it."""
    announcement = selectors.announcement_for_reader(user=request.user, pk=pk)
    if announcement is None:
        raise Http404
    if not selectors.may_manage(request.user, announcement):
        raise PermissionDenied
    return announcement


def _announcement_values(form: AnnouncementForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "notice_type": data["notice_type"],
        "title": data["title"],
        "body": data["body"],
        "valid_from": data["valid_from"],
        "valid_until": data["valid_until"],
        "to_everyone": data["to_everyone"],
        "departments": form.chosen_departments(),
        "people": data["people"],
        "outage": data["outage"],
    }


@require_perm(NoticesPerm.PUBLISH_NOTICES)
def create(request: HttpRequest) -> HttpResponse:
    form = AnnouncementForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            announcement = services.announcement_publish(
                actor=request.user,  # type: ignore[arg-type]
                request=request,
                form_token=form.cleaned_data["form_token"],
                **_announcement_values(form),
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Announcement published: %(title)s") % {"title": announcement.title}
            )
            return redirect("notices:receipts", pk=announcement.pk)
    return render(request, "notices/form.html", {"form": form, "creating": True})


@require_perm(NoticesPerm.VIEW_NOTICES)
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    announcement = _managed(request, pk)
    if announcement.status == Announcement.Status.WITHDRAWN:
        messages.error(request, _("This announcement was withdrawn; it can no longer change."))
        return redirect("notices:detail", pk=announcement.pk)
    initial = {
        "version": announcement.version,
        "notice_type": announcement.type_id,
        "title": announcement.title,
        "body": announcement.body,
        "valid_from": announcement.valid_from,
        "valid_until": announcement.valid_until,
        "to_everyone": announcement.to_everyone,
        "departments": list(announcement.departments.values_list("pk", flat=True)),
        "people": list(announcement.people.values_list("pk", flat=True)),
        "outage": announcement.outage_id,
    }
    form = AnnouncementForm(request.POST or None, initial=initial, keep_type=announcement.type)
    if request.method == "POST" and form.is_valid():
        try:
            services.announcement_update(
                actor=request.user,  # type: ignore[arg-type]
                request=request,
                announcement=announcement,
                version=form.cleaned_data["version"],
                **_announcement_values(form),
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Announcement saved: %(title)s") % {"title": announcement.title}
            )
            return redirect("notices:detail", pk=announcement.pk)
    return render(
        request,
        "notices/form.html",
        {"form": form, "creating": False, "announcement": announcement},
    )


@require_POST
@require_perm(NoticesPerm.VIEW_NOTICES)
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    announcement = _managed(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        services.announcement_withdraw(
            actor=request.user,  # type: ignore[arg-type]
            request=request,
            announcement=announcement,
            version=version,
        )
    except ConflictError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Announcement withdrawn: %(title)s") % {"title": announcement.title}
        )
    return redirect("notices:detail", pk=announcement.pk)


@require_perm(NoticesPerm.VIEW_NOTICES)
def receipts(request: HttpRequest, pk: int) -> HttpResponse:
    """Who in scope has read the announcement, and who has not (its publisher and managers)."""
    announcement = _managed(request, pk)
    return render(
        request,
        "notices/receipts.html",
        {
            "announcement": announcement,
            "receipts": selectors.read_receipts(announcement),
            "current": selectors.is_current(announcement),
        },
    )


@require_perm(NoticesPerm.PUBLISH_NOTICES)
def published(request: HttpRequest) -> HttpResponse:
    """The announcements I published (all of them for a manager), with read counts."""
    page = Paginator(selectors.published_by(user=request.user), param("basic.page_size")).get_page(
        request.GET.get("page")
    )
    rows = [(a, selectors.receipt_counts(a), selectors.is_current(a)) for a in page]
    return render(request, "notices/published.html", {"page": page, "rows": rows})


# --- announcement types -------------------------------------------------------------------------


@require_perm(NoticesPerm.MANAGE_NOTICE_TYPES)
def type_list(request: HttpRequest) -> HttpResponse:
    return render(request, "notices/type_list.html", {"types": selectors.notice_types()})


@require_perm(NoticesPerm.MANAGE_NOTICE_TYPES)
def type_create(request: HttpRequest) -> HttpResponse:
    form = NoticeTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.notice_type_create(
                actor=request.user,  # type: ignore[arg-type]
                request=request,
                name=data["name"],
                sort_order=data["sort_order"],
                is_active=data["is_active"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Announcement type saved: %(n)s") % {"n": data["name"]})
            return redirect("notices:type_list")
    return render(request, "notices/type_form.html", {"form": form, "creating": True})


@require_perm(NoticesPerm.MANAGE_NOTICE_TYPES)
def type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    notice_type = get_object_or_404(NoticeType, pk=pk)
    initial = {
        "version": notice_type.version,
        "name": notice_type.name,
        "sort_order": notice_type.sort_order,
        "is_active": notice_type.is_active,
    }
    form = NoticeTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.notice_type_update(
                actor=request.user,  # type: ignore[arg-type]
                request=request,
                notice_type=notice_type,
                version=data["version"] or 0,
                name=data["name"],
                sort_order=data["sort_order"],
                is_active=data["is_active"],
            )
        except (ValidationError, ConflictError) as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Announcement type saved: %(n)s") % {"n": data["name"]})
            return redirect("notices:type_list")
    return render(
        request,
        "notices/type_form.html",
        {"form": form, "creating": False, "notice_type": notice_type},
    )
