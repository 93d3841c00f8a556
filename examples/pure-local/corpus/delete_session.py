def handler(request) -> Result[Response, Error]:
    data = input_schema(request)
    if "session" not in data:
        return Err(Error("no session"))
    return Ok(Response(deleted=data["session"]))
