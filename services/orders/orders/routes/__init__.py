"""Orders HTTP routes, one APIRouter per file."""
