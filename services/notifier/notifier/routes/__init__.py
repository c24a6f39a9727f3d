"""notifier: HTTP routes, one APIRouter per file."""
