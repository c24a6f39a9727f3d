"""stripe_sim request parameters: every name Stripe's pinned API version accepts, per endpoint.

Copied from the official SDK's generated params (stripe 16.1.0, API 2026-10-28.endive; a test compares
them with the installed SDK). The stand-in reads the ones it models and accepts the rest unread, as
Stripe accepts a valid parameter whatever it does with it; any other name is `parameter_unknown`.
"""

SESSION_CREATE = frozenset(
    {
        "adaptive_pricing",
        "after_expiration",
        "allow_promotion_codes",
        "allowed_payment_method_types",
        "automatic_tax",
        "billing_address_collection",
        "branding_settings",
        "cancel_url",
        "client_reference_id",
        "consent_collection",
        "currency",
        "custom_fields",
        "custom_text",
        "customer",
        "customer_account",
        "customer_creation",
        "customer_email",
        "customer_update",
        "discounts",
        "excluded_payment_method_types",
        "expand",
        "expires_at",
        "integration_identifier",
        "invoice_creation",
        "line_items",
        "locale",
        "managed_payments",
        "metadata",
        "mode",
        "name_collection",
        "optional_items",
        "origin_context",
        "payment_intent_data",
        "payment_method_collection",
        "payment_method_configuration",
        "payment_method_data",
        "payment_method_options",
        "permissions",
        "phone_number_collection",
        "redirect_on_completion",
        "return_url",
        "saved_payment_method_options",
        "setup_intent_data",
        "shipping_address_collection",
        "shipping_options",
        "submit_type",
        "subscription_data",
        "success_url",
        "tax_id_collection",
        "ui_mode",
        "wallet_options",
    }
)
LINE_ITEM = frozenset({"adjustable_quantity", "metadata", "price", "price_data", "quantity", "tax_rates"})
PRICE_DATA = frozenset(
    {"currency", "product", "product_data", "recurring", "tax_behavior", "unit_amount", "unit_amount_decimal"}
)
PRODUCT_DATA = frozenset(
    {"description", "images", "metadata", "name", "tax_code", "tax_details", "unit_label"}
)
PAYMENT_INTENT_DATA = frozenset(
    {
        "application_fee_amount",
        "capture_method",
        "description",
        "metadata",
        "on_behalf_of",
        "receipt_email",
        "setup_future_usage",
        "shipping",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
        "transfer_group",
    }
)
ADAPTIVE_PRICING = frozenset({"enabled"})
AUTOMATIC_TAX = frozenset({"enabled", "liability"})
TAX_RATE_CREATE = frozenset(
    {
        "active",
        "country",
        "description",
        "display_name",
        "expand",
        "inclusive",
        "jurisdiction",
        "metadata",
        "percentage",
        "state",
        "tax_type",
    }
)
REFUND_CREATE = frozenset(
    {
        "amount",
        "charge",
        "currency",
        "customer",
        "expand",
        "instructions_email",
        "metadata",
        "origin",
        "payment_intent",
        "reason",
        "refund_application_fee",
        "reverse_transfer",
    }
)
# The values of ui_mode in this API version; the stand-in serves only the hosted page.
UI_MODES = ("hosted_page", "embedded_page", "elements", "form")
