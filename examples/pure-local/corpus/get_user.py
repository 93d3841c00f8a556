def handler(request) -> Result[Response, Error]:
    data = input_schema(request)
    return Ok(Response(user_id=data["user_id"]))
