def handler(request) -> Result[Response, Error]:
    data = input_schema(request)
    orders = data.get("orders", [])
    return Ok(Response(orders=orders))
