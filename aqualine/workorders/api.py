"""The JSON API of work orders: list, detail with the departments' sections and the timeline,
intake, dispatch, urge, follow-up, and a department's task actions.

Same permissions and data scope as the pages: orders come from `workorders_visible_to`, writes
go through the services (which check the permission, the transition and the version); the
views only parse input and shape output. Input is validated by the pages' forms where a page
has one (intake, dispatch). Errors: see `aqualine.api.exceptions`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from aqualine.accounts.models import Department
from aqualine.api import idempotency
from aqualine.api.serializers import FormSerializer, UserRefSerializer
from aqualine.api.views import ApiView, ApiViewMixin
from aqualine.customers.models import normalize_phone
from aqualine.workorders import selectors, services
from aqualine.workorders.forms import DispatchForm, IntakeForm, leaf_category_ids
from aqualine.workorders.models import Category, DepartmentTask, OrderEvent, WorkOrder
from aqualine.workorders.permissions import WorkordersPerm as P
from aqualine.workorders.transitions import (
    available_order_transitions,
    available_task_transitions,
)

VIEW_PERMS = (P.VIEW_ALL_ORDERS, P.VIEW_DEPARTMENT_ORDERS)
# A department's handler, or the hotline recording on the department's behalf; the services
# decide which task each may touch.
TASK_PERMS = (P.HANDLE_TASKS, P.RECORD_FOR_DEPARTMENT)
# The longest text of a department's section (survey, result, reason), as on the order page.
TASK_TEXT_MAX = 4000

# --- output -----------------------------------------------------------------------------------


class DepartmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class DepartmentSerializer(DepartmentRefSerializer):
    parent = serializers.IntegerField(source="parent_id", allow_null=True)


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField(source="__str__", help_text="Parent / category")


class CategoryNodeSerializer(CategoryRefSerializer):
    time_limit_hours = serializers.IntegerField(allow_null=True)
    default_department_code = serializers.CharField()
    leaf = serializers.SerializerMethodField(
        help_text="Only a leaf category may be given to a new order."
    )

    def get_leaf(self, category: Category) -> bool:
        return category.pk in self.context["leaves"]


class CategorySerializer(CategoryNodeSerializer):
    children = serializers.SerializerMethodField()

    @extend_schema_field(CategoryNodeSerializer(many=True))
    def get_children(self, category: Category) -> Any:
        children = self.context["children"].get(category.pk, [])
        return CategoryNodeSerializer(children, many=True, context=self.context).data


class AccountRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()


class AreaRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


def _datetime(value: datetime | None) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    source = serializers.ChoiceField(choices=WorkOrder.Source.choices)
    source_label = serializers.CharField(source="get_source_display")
    urgency = serializers.ChoiceField(choices=WorkOrder.Urgency.choices)
    urgency_label = serializers.CharField(source="get_urgency_display")
    category = CategoryRefSerializer()
    caller_number = serializers.CharField()
    reporter_name = serializers.CharField()
    reporter_phone = serializers.CharField()
    account = AccountRefSerializer(allow_null=True)
    address = serializers.CharField()
    area = AreaRefSerializer(allow_null=True)
    description = serializers.CharField()
    redo_count = serializers.IntegerField()
    urge_count = serializers.IntegerField()
    satisfaction = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    deadline = serializers.SerializerMethodField(
        help_text="The latest deadline of the open department tasks."
    )
    overdue = serializers.SerializerMethodField(
        help_text="An open department task is past its deadline."
    )
    version = serializers.IntegerField(
        help_text="Send it back with dispatch or follow-up to be told (409) when someone else "
        "changed the order meanwhile."
    )
    url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_deadline(self, order: WorkOrder) -> str | None:
        return _datetime(selectors.workorder_deadline(order))

    def get_overdue(self, order: WorkOrder) -> bool:
        return any(selectors.task_is_overdue(t) for t in order.tasks.all())

    def get_url(self, order: WorkOrder) -> str:
        return reverse("api:workorder_detail", args=[order.pk])


class TaskSerializer(serializers.Serializer):
    """One department's section of the joint processing form."""

    id = serializers.IntegerField()
    department = DepartmentRefSerializer()
    status = serializers.ChoiceField(choices=DepartmentTask.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    round = serializers.IntegerField()
    dispatched_at = serializers.DateTimeField()
    dispatched_by = UserRefSerializer(allow_null=True)
    deadline = serializers.DateTimeField()
    time_left_seconds = serializers.SerializerMethodField(
        help_text="Seconds until the deadline, negative when overdue; null once the "
        "department is done with the task."
    )
    overdue = serializers.SerializerMethodField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    accepted_by = UserRefSerializer(allow_null=True)
    survey = serializers.CharField()
    surveyed_at = serializers.DateTimeField(allow_null=True)
    surveyed_by = UserRefSerializer(allow_null=True)
    result = serializers.CharField()
    result_at = serializers.DateTimeField(allow_null=True)
    result_by = UserRefSerializer(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = UserRefSerializer(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    returned_by = UserRefSerializer(allow_null=True)
    return_reason = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancelled_by = UserRefSerializer(allow_null=True)
    cancel_reason = serializers.CharField()
    recorded_on_behalf_by = UserRefSerializer(allow_null=True)
    replaced_by = serializers.IntegerField(source="replaced_by_id", allow_null=True)
    urge_count = serializers.IntegerField()
    version = serializers.IntegerField(
        help_text="Send it back with every task action; a stale one gets 409."
    )
    available_actions = serializers.SerializerMethodField(
        help_text="The task transitions the requesting user may start now "
        "(accept, record_survey, record_result, submit, return, redispatch, cancel)."
    )

    def get_time_left_seconds(self, task: DepartmentTask) -> int | None:
        left = selectors.task_time_left(task)
        return None if left is None else int(left.total_seconds())

    def get_overdue(self, task: DepartmentTask) -> bool:
        return selectors.task_is_overdue(task)

    def get_available_actions(self, task: DepartmentTask) -> list[str]:
        return available_task_transitions(self.context["request"].user, task)


class EventSerializer(serializers.Serializer):
    """One row of the order's append-only timeline."""

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=OrderEvent.Type.choices)
    type_label = serializers.CharField(source="get_type_display")
    at = serializers.DateTimeField()
    actor = UserRefSerializer(allow_null=True)
    actor_label = serializers.CharField()
    task = serializers.IntegerField(source="task_id", allow_null=True)
    department = DepartmentRefSerializer(allow_null=True)
    data = serializers.JSONField(help_text="What the event recorded: note, reason, deadline ...")


class OrderDetailSerializer(OrderSerializer):
    tasks = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField(
        help_text="The order transitions the requesting user may start now "
        "(dispatch, urge, follow_up_satisfied, ...)."
    )

    @extend_schema_field(TaskSerializer(many=True))
    def get_tasks(self, order: WorkOrder) -> Any:
        tasks = selectors.workorder_tasks(order=order).select_related(
            "dispatched_by", "submitted_by", "returned_by", "cancelled_by"
        )
        return TaskSerializer(tasks, many=True, context=self.context).data

    @extend_schema_field(EventSerializer(many=True))
    def get_events(self, order: WorkOrder) -> Any:
        events = selectors.workorder_timeline(order=order).select_related("actor")
        return EventSerializer(events, many=True, context=self.context).data

    def get_available_actions(self, order: WorkOrder) -> list[str]:
        return available_order_transitions(self.context["request"].user, order)


def _order_response(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    """The order as it is now (after a write: with its new status and versions)."""
    order = get_object_or_404(
        WorkOrder.objects.select_related("category__parent", "account", "area"), pk=pk
    )
    data = OrderDetailSerializer(order, context={"request": request}).data
    return Response(data, status=code)


# --- input ------------------------------------------------------------------------------------


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices, required=False)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(),
        required=False,
        help_text="Orders with a task for this department (id).",
    )
    overdue = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only orders with an open task past its deadline; false: only others.",
    )
    caller = serializers.CharField(
        required=False,
        max_length=32,
        help_text="Orders whose caller number or reporter phone is this number.",
    )

    def validate_caller(self, value: str) -> str:
        digits = normalize_phone(value)
        if not digits:
            raise serializers.ValidationError(_("Enter a phone number."))
        return digits


_INTAKE = IntakeForm.base_fields


def _intake_max(name: str) -> int:
    return int(getattr(_INTAKE[name], "max_length", None) or 0)


def _optional_text(name: str, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=_intake_max(name), **kwargs
    )


class OrderCreateSerializer(FormSerializer):
    """A new order, validated by the intake page's form (leaf category, account number ...)."""

    form_class = IntakeForm

    source = serializers.ChoiceField(choices=WorkOrder.Source.choices)
    category = serializers.IntegerField(help_text="A leaf category's id (GET /api/v1/categories/).")
    description = serializers.CharField(max_length=_intake_max("description"))
    urgency = serializers.ChoiceField(
        choices=WorkOrder.Urgency.choices, default=WorkOrder.Urgency.NORMAL
    )
    caller_number = _optional_text("caller_number")
    reporter_name = _optional_text("reporter_name")
    reporter_phone = _optional_text("reporter_phone")
    account_number = _optional_text(
        "account_number", help_text="The service address is the account's when left empty."
    )
    address = _optional_text("address")

    def form_data(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The form's own token guards against a resubmitted page; the API's retries are
        # guarded by the Idempotency-Key header instead.
        return {**attrs, "form_token": uuid.uuid4()}


class DispatchSerializer(FormSerializer):
    """Validated by the order page's dispatch form."""

    form_class = DispatchForm

    departments = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of active departments."
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=getattr(DispatchForm.base_fields["note"], "max_length", None),
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The order's version the client saw."
    )


class UrgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class FollowUpSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=WorkOrder.FollowUpOutcome.choices)
    satisfaction = serializers.IntegerField(help_text="1 (very dissatisfied) to 5.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class TaskVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text="The task's version the client saw: a stale one gets 409."
    )


def _task_text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=TASK_TEXT_MAX, allow_blank=True, **kwargs)


class TaskSurveySerializer(TaskVersionSerializer):
    survey = _task_text()


class TaskResultSerializer(TaskVersionSerializer):
    result = _task_text()


class TaskSubmitSerializer(TaskVersionSerializer):
    result = _task_text(required=False, default="", help_text="Empty: the result recorded before.")


class TaskReturnSerializer(TaskVersionSerializer):
    reason = _task_text()


# --- views ------------------------------------------------------------------------------------


def _visible_order(request: Request, pk: int) -> WorkOrder:
    return get_object_or_404(selectors.workorders_visible_to(request.user), pk=pk)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


IDEMPOTENCY_HEADER = OpenApiParameter(
    idempotency.HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="New for each order (a UUID), the same when retrying: a retry returns the "
    "order the first request created. Reused with a different body: 422.",
)


class OrderListView(ApiViewMixin, mixins.ListModelMixin, GenericAPIView):
    required_perms = VIEW_PERMS
    post_perms = (P.CREATE_ORDERS,)
    idempotent_create = True
    serializer_class = OrderSerializer

    def get_queryset(self) -> QuerySet[WorkOrder]:
        filters = OrderFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        orders = selectors.workorder_list(
            user=self.request.user,
            department=data.get("department"),
            status=data.get("status"),
            overdue=data.get("overdue"),
        )
        caller = data.get("caller")
        if caller:  # the same match as selectors.orders_for_caller, within the user's scope
            orders = orders.filter(Q(caller_number=caller) | Q(reporter_phone=caller))
        return orders.select_related("account", "area").prefetch_related("tasks")

    @extend_schema(
        operation_id="workorders_list",
        parameters=[OrderFilterSerializer],
        summary="Work orders the user may see, newest first",
    )
    def get(self, request: Request) -> Response:
        """Everything for `view_all_orders`; for `view_department_orders` the orders with a
        task for the user's department (or one below or above it). Paginated."""
        return self.list(request)

    @extend_schema(
        operation_id="workorders_create",
        request=OrderCreateSerializer,
        responses={201: OrderDetailSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Intake: a new order in pending dispatch",
    )
    def post(self, request: Request) -> Response:
        """Validated like the intake page (a leaf category, an existing account number ...).
        Send an `Idempotency-Key` header: a retry with the same key returns the order the
        first request created (201, header `Idempotent-Replayed: true`)."""
        key = idempotency.idempotency_key(request)

        def create() -> int:
            data = _valid(OrderCreateSerializer, request)
            order = services.workorder_create(
                actor=request.user,
                source=data["source"],
                category=data["category"],
                description=data["description"],
                caller_number=data["caller_number"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                account=data["account_number"],
                address=data["address"],
                urgency=data["urgency"],
            )
            return order.pk

        outcome = idempotency.run_once(
            user=request.user,
            scope="workorders.create",
            key=key,
            data=request.data,
            create=create,
        )
        response = _order_response(request, outcome.resource_id, status.HTTP_201_CREATED)
        response.headers["Location"] = reverse("api:workorder_detail", args=[outcome.resource_id])
        if outcome.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response


class OrderDetailView(ApiView):
    required_perms = VIEW_PERMS

    @extend_schema(
        operation_id="workorders_retrieve",
        responses=OrderDetailSerializer,
        summary="An order with its departments' sections and its timeline",
    )
    def get(self, request: Request, pk: int) -> Response:
        """404 for an order outside the user's scope. `available_actions` lists what the user
        may do now, on the order and on each task."""
        return _order_response(request, _visible_order(request, pk).pk)


class DispatchView(ApiView):
    """Each task's deadline is now + the category's time limit. Send the order's `version` to
    get 409 instead of a second dispatch when someone else acted meanwhile."""

    required_perms = (P.DISPATCH_ORDERS,)
    may_conflict = True

    @extend_schema(
        operation_id="workorders_dispatch",
        request=DispatchSerializer,
        responses=OrderDetailSerializer,
        summary="Dispatch: one task per department",
    )
    def post(self, request: Request, pk: int) -> Response:
        order = _visible_order(request, pk)
        data = _valid(DispatchSerializer, request)
        services.workorder_dispatch(
            actor=request.user,
            order=order,
            departments=list(data["departments"]),
            note=data["note"],
            version=data["version"],
        )
        return _order_response(request, order.pk)


class UrgeView(ApiView):
    """Counted on the order and on every open task, and pushed to the departments."""

    required_perms = (P.URGE_ORDERS,)

    @extend_schema(
        operation_id="workorders_urge",
        request=UrgeSerializer,
        responses=OrderDetailSerializer,
        summary="Urge: counted on the order and its open tasks",
    )
    def post(self, request: Request, pk: int) -> Response:
        order = _visible_order(request, pk)
        data = _valid(UrgeSerializer, request)
        services.workorder_urge(actor=request.user, order=order, note=data["note"])
        return _order_response(request, order.pk)


class FollowUpView(ApiView):
    """On an order pending follow-up: satisfied closes it, unsatisfied sends it to redo."""

    required_perms = (P.FOLLOW_UP_ORDERS,)
    may_conflict = True

    @extend_schema(
        operation_id="workorders_follow_up",
        request=FollowUpSerializer,
        responses=OrderDetailSerializer,
        summary="Follow-up call: satisfied closes the order, unsatisfied sends it to redo",
    )
    def post(self, request: Request, pk: int) -> Response:
        order = _visible_order(request, pk)
        data = _valid(FollowUpSerializer, request)
        services.workorder_follow_up(
            actor=request.user,
            order=order,
            outcome=data["outcome"],
            satisfaction=data["satisfaction"],
            note=data["note"],
            version=data["version"],
        )
        return _order_response(request, order.pk)


class TaskActionView(ApiView):
    """A department's action on its section; the service checks that the user belongs to the
    task's department (or records on its behalf) and that `version` is current."""

    required_perms = TASK_PERMS
    may_conflict = True
    input_class: type[serializers.Serializer] = TaskVersionSerializer

    def act(self, request: Request, task: DepartmentTask, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        visible = selectors.workorders_visible_to(request.user)
        task = get_object_or_404(
            DepartmentTask.objects.select_related("order", "department").filter(order__in=visible),
            pk=pk,
        )
        data = _valid(self.input_class, request)
        self.act(request, task, data)
        return _order_response(request, task.order_id)


def _task_schema(name: str, summary: str, input_class: type[serializers.Serializer]) -> Any:
    return extend_schema(
        operation_id=f"tasks_{name}",
        request=input_class,
        responses=OrderDetailSerializer,
        summary=summary,
    )


class TaskAcceptView(TaskActionView):
    @_task_schema("accept", "Sign for the task", TaskVersionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, task: DepartmentTask, data: dict[str, Any]) -> None:
        services.task_accept(actor=request.user, task=task, version=data["version"])


class TaskSurveyView(TaskActionView):
    input_class = TaskSurveySerializer

    @_task_schema("survey", "Record the site survey", TaskSurveySerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, task: DepartmentTask, data: dict[str, Any]) -> None:
        services.task_record_survey(
            actor=request.user, task=task, version=data["version"], survey=data["survey"]
        )


class TaskResultView(TaskActionView):
    input_class = TaskResultSerializer

    @_task_schema("result", "Record the result without submitting", TaskResultSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, task: DepartmentTask, data: dict[str, Any]) -> None:
        services.task_record_result(
            actor=request.user, task=task, version=data["version"], result=data["result"]
        )


class TaskSubmitView(TaskActionView):
    input_class = TaskSubmitSerializer

    @_task_schema("submit", "Submit the section (with its result)", TaskSubmitSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, task: DepartmentTask, data: dict[str, Any]) -> None:
        services.task_submit(
            actor=request.user, task=task, version=data["version"], result=data["result"]
        )


class TaskReturnView(TaskActionView):
    input_class = TaskReturnSerializer

    @_task_schema("return", "Return the task to the hotline with a reason", TaskReturnSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, request: Request, task: DepartmentTask, data: dict[str, Any]) -> None:
        services.task_return(
            actor=request.user, task=task, version=data["version"], reason=data["reason"]
        )


# --- reference data ---------------------------------------------------------------------------


class CategoryListView(ApiView):
    """Top-level categories with their sub-categories, in sort order."""

    required_perms = (P.CREATE_ORDERS, *VIEW_PERMS)

    @extend_schema(
        operation_id="categories_list",
        responses=CategorySerializer(many=True),
        summary="The active category tree; a new order takes a leaf",
    )
    def get(self, request: Request) -> Response:
        tree = selectors.category_tree()
        context = {
            "leaves": leaf_category_ids(),
            "children": {parent.pk: children for parent, children in tree},
        }
        parents = [parent for parent, _children in tree]
        return Response(CategorySerializer(parents, many=True, context=context).data)


class DepartmentListView(ApiView):
    """Departments an order may be dispatched to, and the list may be filtered by."""

    required_perms = (P.DISPATCH_ORDERS, *VIEW_PERMS)

    @extend_schema(
        operation_id="departments_list",
        responses=DepartmentSerializer(many=True),
        summary="Active departments (to dispatch to, to filter by)",
    )
    def get(self, request: Request) -> Response:
        departments = Department.objects.filter(is_active=True).order_by("sort_order", "name")
        return Response(DepartmentSerializer(departments, many=True).data)
