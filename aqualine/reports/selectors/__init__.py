"""Reads of the reports app: the work-order reports (`orders`), the call-centre reports
(`calls`) and the custom query (`query`). Every work-order figure is computed from the orders
the viewer may see (`aqualine.workorders.selectors.workorders_visible_to`)."""
