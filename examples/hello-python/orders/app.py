"""OrdersFunction: totals an order's items and adds tax."""
import json
import os
from decimal import Decimal, ROUND_HALF_UP


def order_total(items, tax_rate):
    subtotal = sum(Decimal(str(i["price"])) * int(i.get("qty", 1)) for i in items)
    subtotal = subtotal.quantize(Decimal("0.01"))
    total = subtotal * (1 + Decimal(tax_rate))
    return subtotal, total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def lambda_handler(event, context):
    items = (event or {}).get("items")
    if not isinstance(items, list) or not items:
        raise ValueError("an order needs a non-empty 'items' list")
    subtotal, total = order_total(items, os.environ.get("TAX_RATE", "0"))
    print(f"order {event.get('id', '?')}: {len(items)} items, total {total}")
    return {
        "statusCode": 200,
        "body": json.dumps({"id": event.get("id"), "subtotal": str(subtotal), "total": str(total)}),
    }
