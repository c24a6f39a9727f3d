"""stripe_sim errors: Stripe's error object and the usual error constructors."""

from typing import Any

Obj = dict[str, Any]

DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error rendered as Stripe's `{"error": {...}}` body with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self, request_id: str | None = None) -> Obj:
        """The JSON body Stripe sends for this error."""
        error: Obj = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOCS + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


def resource_missing(kind: str, ident: str, *, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(status, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def parameter_missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def parameter_unknown(param: str) -> StripeError:
    message = f"Received unknown parameter: {param}"
    return StripeError(400, message, code="parameter_unknown", param=param)


def invalid(param: str, message: str, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def unrecognized_url(method: str, path: str) -> StripeError:
    message = (
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/."
    )
    return StripeError(404, message)
