"""The JSON API of customer lookup: accounts by account number, phone, address fragment or name,
with their phones, meters and arrears; one account with its overdue bills and outage notices.

Same permission and rules as the lookup page: `customers.view_customers`, the page's
`LookupForm`, `customer_search` and the arrears selectors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from aqualine.api.exceptions import raise_form_errors
from aqualine.api.views import ApiView
from aqualine.customers import selectors
from aqualine.customers.forms import LookupForm
from aqualine.customers.models import Account, Meter
from aqualine.customers.permissions import CustomersPerm
from aqualine.customers.selectors import SearchBy

# --- output -----------------------------------------------------------------------------------


class AreaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class MeterSerializer(serializers.Serializer):
    number = serializers.CharField()
    caliber_mm = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Meter.Kind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    installed_on = serializers.DateField(allow_null=True)
    last_reading = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, help_text="m³"
    )
    last_read_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=Meter.Status.choices)
    status_label = serializers.CharField(source="get_status_display")


class AccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    address = serializers.CharField()
    area = AreaSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=Account.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    phones = serializers.SerializerMethodField()
    meters = MeterSerializer(many=True, source="meters.all")
    arrears = serializers.SerializerMethodField(
        help_text="Unpaid amount of the bills past their due date (yuan)."
    )
    url = serializers.SerializerMethodField()

    def get_phones(self, account: Account) -> list[str]:
        return [p.number for p in account.phones.all()]

    @staticmethod
    def _money(value: Decimal) -> str:
        return str(value.quantize(Decimal("0.01")))

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_arrears(self, account: Account) -> str:
        arrears: dict[int, Decimal] = self.context["arrears"]
        return self._money(arrears.get(account.pk, Decimal("0")))

    def get_url(self, account: Account) -> str:
        return reverse("api:customer_detail", args=[account.pk])


class BillSerializer(serializers.Serializer):
    period = serializers.CharField()
    usage_m3 = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    unpaid = serializers.DecimalField(max_digits=12, decimal_places=2)
    due_date = serializers.DateField()


class ArrearsSerializer(serializers.Serializer):
    total = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Unpaid part of the bills past due (欠费)."
    )
    months = serializers.IntegerField(help_text="How many bills are past due and unpaid.")
    oldest_due_date = serializers.DateField(allow_null=True)
    not_yet_due = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Owed on bills still within their term."
    )
    overdue_bills = BillSerializer(many=True)


class OutageSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The sentence the intake banner shows.")
    in_effect = serializers.BooleanField()
    starts_at = serializers.DateTimeField(source="notice.starts_at")
    expected_end_at = serializers.DateTimeField(source="notice.expected_end_at")


class AccountDetailSerializer(AccountSerializer):
    arrears_detail = serializers.SerializerMethodField()
    outages = serializers.SerializerMethodField(
        help_text="Water-outage notices in effect or upcoming for the account's area."
    )

    @extend_schema_field(ArrearsSerializer)
    def get_arrears_detail(self, account: Account) -> Any:
        return ArrearsSerializer(self.context["arrears_detail"]).data

    @extend_schema_field(OutageSerializer(many=True))
    def get_outages(self, account: Account) -> Any:
        return OutageSerializer(selectors.outage_lines_for_account(account), many=True).data


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    by = serializers.ChoiceField(choices=[b.value for b in SearchBy])
    count = serializers.IntegerField()
    truncated = serializers.BooleanField(
        help_text=f"More than {selectors.MAX_RESULTS} accounts match: narrow the search."
    )
    results = AccountSerializer(many=True)


# --- views ------------------------------------------------------------------------------------


class CustomerSearchView(ApiView):
    """At most 50 accounts, ordered by number, each with phones, meters and arrears; validated
    like the lookup page (a phone of at least 5 digits, a text of at least 2 characters)."""

    required_perms = (CustomersPerm.VIEW_CUSTOMERS,)

    @extend_schema(
        operation_id="customers_search",
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                required=True,
                description="Account number, phone, address fragment (幸福小区3栋) or name.",
            ),
            OpenApiParameter(
                "by",
                OpenApiTypes.STR,
                enum=[b.value for b in SearchBy],
                description="What `q` is; auto (the default) tries number and phone for "
                "digits, number, name and address otherwise.",
            ),
        ],
        responses=SearchResultSerializer,
        summary="Customer lookup, with meters and arrears",
    )
    def get(self, request: Request) -> Response:
        form = LookupForm(request.query_params)
        raise_form_errors(form)
        query, by = form.cleaned_data["q"], form.cleaned_data["by"]
        result = selectors.customer_search(query=query, by=by)
        prefetch_related_objects(result.accounts, "meters")
        context = {"arrears": result.arrears}
        return Response(
            {
                "query": query,
                "by": str(by),
                "count": len(result.accounts),
                "truncated": result.truncated,
                "results": AccountSerializer(result.accounts, many=True, context=context).data,
            }
        )


class CustomerDetailView(ApiView):
    """With the overdue bills behind the arrears, and the outage notices of its area."""

    required_perms = (CustomersPerm.VIEW_CUSTOMERS,)

    @extend_schema(
        operation_id="customers_retrieve",
        responses=AccountDetailSerializer,
        summary="An account with its meters, arrears and outage notices",
    )
    def get(self, request: Request, pk: int) -> Response:
        account = selectors.account_get(pk=pk)
        if account is None:
            raise Http404
        arrears = selectors.account_arrears(account=account)
        context = {"arrears": {account.pk: arrears.total}, "arrears_detail": arrears}
        return Response(AccountDetailSerializer(account, context=context).data)
