"""HelloFunction: greets whoever the event names."""
import json
import os


def greet(name):
    greeting = os.environ.get("GREETING", "Hello")
    return f"{greeting}, {name}!"


def lambda_handler(event, context):
    name = (event or {}).get("name") or "world"
    message = greet(name)
    print(f"greeting {name}")
    return {"statusCode": 200, "body": json.dumps({"message": message})}
