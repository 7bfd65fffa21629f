"""URLs of the JSON API: /api/v1/... (token), the schema and its documentation page."""

from django.urls import path

from aqualine.api import views
from aqualine.customers import api as customers
from aqualine.workorders import api as workorders

app_name = "api"

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.docs, name="docs"),
    path("v1/workorders/", workorders.OrderListView.as_view(), name="workorder_list"),
    path("v1/workorders/<int:pk>/", workorders.OrderDetailView.as_view(), name="workorder_detail"),
    path(
        "v1/workorders/<int:pk>/dispatch/",
        workorders.DispatchView.as_view(),
        name="workorder_dispatch",
    ),
    path("v1/workorders/<int:pk>/urge/", workorders.UrgeView.as_view(), name="workorder_urge"),
    path(
        "v1/workorders/<int:pk>/follow-up/",
        workorders.FollowUpView.as_view(),
        name="workorder_follow_up",
    ),
    path("v1/tasks/<int:pk>/accept/", workorders.TaskAcceptView.as_view(), name="task_accept"),
    path("v1/tasks/<int:pk>/survey/", workorders.TaskSurveyView.as_view(), name="task_survey"),
    path("v1/tasks/<int:pk>/result/", workorders.TaskResultView.as_view(), name="task_result"),
    path("v1/tasks/<int:pk>/submit/", workorders.TaskSubmitView.as_view(), name="task_submit"),
    path("v1/tasks/<int:pk>/return/", workorders.TaskReturnView.as_view(), name="task_return"),
    path("v1/categories/", workorders.CategoryListView.as_view(), name="category_list"),
    path("v1/departments/", workorders.DepartmentListView.as_view(), name="department_list"),
    path("v1/customers/", customers.CustomerSearchView.as_view(), name="customer_search"),
    path("v1/customers/<int:pk>/", customers.CustomerDetailView.as_view(), name="customer_detail"),
]
